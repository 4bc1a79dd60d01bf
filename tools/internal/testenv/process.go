package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child (etcd or kube-apiserver) with its output in a file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited
	waitErr error         // valid after done is closed
}

// startProcess runs bin with args and, added to this process's
// environment, env; stdout and stderr go to logPath.
func startProcess(name, bin, logPath string, args, env []string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// stop asks the process to end (SIGTERM) and kills it after grace. Either
// way it returns once the process is gone, so its files can be removed.
func (p *process) stop(grace time.Duration) {
	if ok, _ := p.exited(); ok {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// portInUse reports whether the log says a listen address was taken: the
// free port picked before the start went to someone else in between.
func (p *process) portInUse() bool {
	b, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(b, []byte("address already in use"))
}

// tail returns the last n lines of the process's log, for failure messages.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no %s log: %v)", p.name, err)
	}
	text := strings.TrimRight(string(b), "\n")
	if text == "" {
		return fmt.Sprintf("(%s wrote nothing to %s)", p.name, p.logPath)
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("last %d lines of %s (%s):\n%s", len(lines), p.name, p.logPath, strings.Join(lines, "\n"))
}

// exitError describes a process that ended early.
func (p *process) exitError(err error) error {
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited: %w\n%s", p.name, err, p.tail(logTail))
}
