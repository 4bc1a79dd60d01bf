package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// environment, env; stdout and stderr go to logPath. With a root, the
// process runs chrooted into it (see chrooted) and env is its whole
// environment.
func startProcess(name, bin, logPath, root string, args, env []string) (*process, error) {
	cmd := exec.Command(bin, args...)
	switch {
	case root != "":
		var err error
		if cmd, err = chrooted(root, bin, args); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	case env != nil:
		cmd.Env = append(os.Environ(), env...)
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
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

// chrootScript runs in a new user and mount namespace, as its root: it
// binds the host's /proc, /sys and /dev into the root ($1), as a container
// runtime would mount them (Go programs read /proc/self/mountinfo and the
// cgroup files to size GOMAXPROCS and GOMEMLIMIT), and the binary $2 at /$3,
// then executes it with the remaining arguments chrooted into the root. The
// mounts vanish with the namespace.
const chrootScript = `root=$1 host=$2 name=$3
shift 3
for d in proc sys dev; do
	mkdir -p "$root/$d" && mount --rbind "/$d" "$root/$d" || exit 1
done
touch "$root/$name" && mount --bind "$host" "$root/$name" || exit 1
exec chroot "$root" "/$name" "$@"`

// chrooted is the command running the binary bin (a path on this machine)
// with args chrooted into root, in a user namespace of its own where it is
// root (mapped to this process's user): no privilege is needed. It uses
// util-linux's unshare and coreutils' chroot.
func chrooted(root, bin string, args []string) (*exec.Cmd, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("running a controller in a root of its own needs unshare (util-linux): %w", err)
	}
	argv := append([]string{"--user", "--map-root-user", "--mount", "--", "sh", "-c", chrootScript, "sh", root, bin, filepath.Base(bin)}, args...)
	cmd := exec.Command(unshare, argv...)
	cmd.Dir = "/"
	return cmd, nil
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
