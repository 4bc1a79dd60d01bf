package cli

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binary is the tools command built once for the tests that run it as a
// process (signals, peak memory).
var binary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// toolsBinary returns the built tools command; tests that need it are
// skipped with -short.
func toolsBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the tools binary: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the tools binary with")
	}
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "tools-test-bin-*")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "tools")
		build := exec.Command(goBin, "build", "-o", binary.path, "github.com/aks-gitops/platform/tools")
		binary.out, binary.err = build.CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("go build: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

// TestMain removes the built binary after the tests.
func TestMain(m *testing.M) {
	// As tools/main.go does: Helm's engine logs through the default logger.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	code := m.Run()
	if binary.path != "" {
		_ = os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}
