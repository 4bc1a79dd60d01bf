// Command tools renders, validates, policy-checks and diffs this Flux
// repository offline. Run `go run ./tools --help`.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/aks-gitops/platform/tools/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	// A run is short and its heap mostly the render it keeps to the end:
	// collecting less often saves a fifth of the CPU time of a check, for
	// memory the machines that run it have. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ... but not past a soft limit: near it the collector runs as often as
	// it must, so a large render costs time rather than gigabytes of
	// garbage (GOMEMLIMIT in the environment wins).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
	// TOOLS_CPUPROFILE=FILE writes a CPU profile of the run, for speed work
	// (go tool pprof FILE).
	var profile *os.File
	if path := os.Getenv("TOOLS_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			profile = f
		}
	}
	// Some of Helm's packages (its template engine among them) log through
	// the process's default slog logger; the tool reports for itself.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels the run; stop restores the default action,
	// so a second one ends the process at once if the run is slow to.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, buildVersion(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if profile != nil {
		pprof.StopCPUProfile()
		_ = profile.Close() // a profile for speed work; the run's result stands
	}
	// TOOLS_MEMPROFILE=FILE writes what the run allocated, where (go tool
	// pprof -sample_index=alloc_space FILE): memory the process touches
	// for the first time is costly on virtual machines (page faults).
	if path := os.Getenv("TOOLS_MEMPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			// The profile is as of the last collection; like the CPU
			// profile, it is for speed work and its errors do not matter.
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	os.Exit(code)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}
