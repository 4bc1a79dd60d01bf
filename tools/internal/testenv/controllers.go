package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// controllersCommand is what a developer runs, from the repository root, to
// build the controllers when they are missing.
const controllersCommand = "make controllers"

// ControllersDir returns the directory scripts/controllers.sh builds the
// controllers into: ${CONTROLLERS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/controllers}.
func ControllersDir() (string, error) {
	return cachePath("CONTROLLERS_BIN", "controllers")
}

// Controller is a controller process running against an Env.
type Controller struct {
	p *process
}

// Log is the path of the controller's log.
func (c *Controller) Log() string { return c.p.logPath }

// Tail returns the last n lines of the controller's log.
func (c *Controller) Tail(n int) string { return c.p.tail(n) }

// StartController runs the controller name that scripts/controllers.sh
// built (source-controller, kustomize-controller, gatekeeper, ...) against
// e: KUBECONFIG points at e, env is added to the environment, args are its
// flags, its log is kept under t.TempDir(). It is stopped when t ends; a
// controller that died during the test fails it, and a failed test quotes
// the end of its log. A missing binary fails the test with the command that
// builds it: these tests never skip.
func (e *Env) StartController(t testing.TB, name string, env []string, args ...string) *Controller {
	t.Helper()
	return e.startController(t, e.controllerBinary(t, name), "", append([]string{"KUBECONFIG=" + e.kubeconfig}, env...), args)
}

// StartControllerIn is StartController for a controller that reads fixed
// paths (its certificates in /certs, its configuration in /config): it
// runs chrooted into root, which the caller has filled with those files,
// as root of a user namespace of its own (no privilege needed). The binary
// is bound into root and a kubeconfig (/kubeconfig) added; env is the whole
// environment, with KUBECONFIG, HOME and TMPDIR (/tmp) set.
func (e *Env) StartControllerIn(t testing.TB, name, root string, env []string, args ...string) *Controller {
	t.Helper()
	bin, env := e.prepareRoot(t, name, root, env)
	return e.startController(t, bin, root, env, args)
}

// prepareRoot adds a kubeconfig (and /tmp) to root and returns the
// controller's binary and the environment.
func (e *Env) prepareRoot(t testing.TB, name, root string, env []string) (string, []string) {
	t.Helper()
	bin := e.controllerBinary(t, name)
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o777); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	kubeconfig, err := os.ReadFile(e.kubeconfig)
	if err == nil {
		err = os.WriteFile(filepath.Join(root, "kubeconfig"), kubeconfig, 0o600)
	}
	if err != nil {
		t.Fatalf("testenv: root for %s: %v", name, err)
	}
	return bin, append([]string{"KUBECONFIG=/kubeconfig", "HOME=/", "TMPDIR=/tmp"}, env...)
}

// RunIn runs the controller binary name in root as StartControllerIn
// starts it, but to completion, as a Job's container runs: it returns nil
// once the process exits 0, else an error with the end of its log (also
// when it has not finished within timeout, and is killed).
func (e *Env) RunIn(t testing.TB, name, root string, timeout time.Duration, env []string, args ...string) error {
	t.Helper()
	bin, env := e.prepareRoot(t, name, root, env)
	p, err := startProcess(name, bin, filepath.Join(t.TempDir(), name+".log"), root, args, env)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.stop(stopGrace)
		return fmt.Errorf("%s still running after %s\n%s", name, timeout, p.tail(logTail))
	}
	if p.waitErr != nil {
		return p.exitError(p.waitErr)
	}
	return nil
}

// controllerBinary is the path of the built controller name, or fails t
// with the command that builds it.
func (e *Env) controllerBinary(t testing.TB, name string) string {
	t.Helper()
	dir, err := ControllersDir()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	bin := filepath.Join(dir, name)
	if !executable(bin) {
		t.Fatalf("testenv: %s not found in %s; to build it once, from the repository root run: %s", name, dir, controllersCommand)
	}
	return bin
}

// startController starts the controller binary bin, in root if set.
func (e *Env) startController(t testing.TB, bin, root string, env, args []string) *Controller {
	t.Helper()
	name := filepath.Base(bin)
	logDir := t.TempDir()
	p, err := startProcess(name, bin, filepath.Join(logDir, name+".log"), root, args, env)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { stopAndReport(t, p, logTail) })
	return &Controller{p: p}
}

// Exited reports whether the controller has stopped, and why.
func (c *Controller) Exited() error {
	died, err := c.p.exited()
	if !died {
		return nil
	}
	if err := c.p.exitError(err); err != nil {
		return err
	}
	return errors.New(c.p.name + " exited")
}
