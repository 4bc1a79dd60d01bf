package testenv

import (
	"errors"
	"path/filepath"
	"testing"
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
	dir, err := ControllersDir()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	bin := filepath.Join(dir, name)
	if !executable(bin) {
		t.Fatalf("testenv: %s not found in %s; to build it once, from the repository root run: %s", name, dir, controllersCommand)
	}
	logDir := t.TempDir()
	env = append([]string{"KUBECONFIG=" + e.kubeconfig}, env...)
	p, err := startProcess(name, bin, filepath.Join(logDir, name+".log"), args, env)
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
