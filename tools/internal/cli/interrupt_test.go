package cli

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aks-gitops/platform/tools/internal/nettest"
)

// unreachableEntry is a cluster entry whose one source is at $ADDR, beside
// a ConfigMap that renders.
const unreachableEntry = `apiVersion: v1
kind: ConfigMap
metadata: {name: local, namespace: default}
`

// unreachableSources are Flux objects whose source is at $ADDR, one per
// kind of network fetch.
var unreachableSources = []struct {
	name string
	yaml string
	// want are what the one error line names: the object, the URL, the
	// hint.
	want []string
}{
	{
		name: "helm repository",
		yaml: `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: apps}
spec:
  interval: 1h
  url: http://$ADDR
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  interval: 1h
  chart:
    spec:
      chart: demo-app
      version: "1.0.0"
      sourceRef: {kind: HelmRepository, name: charts}
`,
		want: []string{"HelmRelease/apps/web (clusters/test/sources.yaml)", "http://$ADDR/index.yaml", "(to render without the network: --charts DIR --offline)"},
	},
	{
		name: "oci helm repository",
		yaml: `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: apps}
spec:
  type: oci
  interval: 1h
  url: oci://$ADDR/charts
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  interval: 1h
  chart:
    spec:
      chart: demo-app
      version: "1.0.0"
      sourceRef: {kind: HelmRepository, name: charts}
`,
		want: []string{"HelmRelease/apps/web (clusters/test/sources.yaml)", "oci://$ADDR/charts/demo-app", "(to render without the network: --charts DIR --offline)"},
	},
	{
		name: "oci chartRef",
		yaml: `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: demo-app, namespace: apps}
spec:
  interval: 1h
  url: oci://$ADDR/charts/demo-app
  ref: {tag: "1.0.0"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: apps}
spec:
  interval: 1h
  chartRef: {kind: OCIRepository, name: demo-app}
`,
		want: []string{"HelmRelease/apps/web (clusters/test/sources.yaml)", "oci://$ADDR/charts/demo-app", "(to render it from a local copy: --source OCIRepository/apps/demo-app=DIR)"},
	},
	{
		name: "git repository",
		yaml: `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: shared, namespace: flux-system}
spec:
  interval: 1h
  url: http://$ADDR/org/shared.git
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: shared, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef: {kind: GitRepository, name: shared}
`,
		want: []string{"Kustomization/flux-system/shared (clusters/test/sources.yaml)", "http://$ADDR/org/shared.git", "(to render it from a local copy: --source GitRepository/flux-system/shared=DIR)"},
	},
}

// unreachableRepo writes a repository whose entry clusters/test holds a
// ConfigMap and sources, with $ADDR replaced by addr, and returns the
// render arguments for it.
func unreachableRepo(t *testing.T, sources, addr string) []string {
	t.Helper()
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"clusters/test/local.yaml":   unreachableEntry,
		"clusters/test/sources.yaml": strings.ReplaceAll(sources, "$ADDR", addr),
	})
	return []string{"render", "--repo", repo, "--cache-dir", t.TempDir(), "--self-source", "flux-system/flux-system", filepath.Join(repo, "clusters", "test")}
}

// TestUnreachableSources renders against a chart repository, registry or
// Git server that accepts and never answers, and against one that refuses:
// exit 2 and one error line naming the Flux object, the URL and how to
// render without it; the rest of the entry renders (written with --partial).
func TestUnreachableSources(t *testing.T) {
	silent, _ := nettest.Silent(t)
	refused := nettest.Refused(t)
	for _, src := range unreachableSources {
		for _, server := range []struct {
			name, addr, want string
		}{
			{name: "silent", addr: silent, want: ": no answer within 1s ("},
			{name: "refused", addr: refused, want: "connection refused"},
		} {
			t.Run(src.name+"/"+server.name, func(t *testing.T) {
				args := unreachableRepo(t, src.yaml, server.addr)
				code, stdout, stderr := run(append(args, "--timeout", "1s", "--partial")...)
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				var errs []string
				for _, l := range lines {
					if strings.HasPrefix(l, "error:") {
						errs = append(errs, l)
					}
				}
				if code != ExitError || len(errs) != 1 || len(lines) != 2 || !strings.HasPrefix(lines[1], "FAILED (1 errors):") {
					t.Fatalf("exit %d, stderr:\n%s\nwant exit 2, one error line and the summary", code, stderr)
				}
				for _, w := range append(src.want, server.want) {
					if w = strings.ReplaceAll(w, "$ADDR", server.addr); !strings.Contains(errs[0], w) {
						t.Errorf("the error line lacks %q:\n%s", w, errs[0])
					}
				}
				if !strings.Contains(stdout, "name: local") {
					t.Errorf("the rest of the entry did not render:\n%s", stdout)
				}
			})
		}
	}
}

// TestInterruptedRender cancels the run's context once the silent server
// has accepted the connection, long before the fetch's timeout: Run returns
// exit 2 with one line saying it was interrupted, and nothing on stdout.
func TestInterruptedRender(t *testing.T) {
	for _, src := range unreachableSources {
		t.Run(src.name, func(t *testing.T) {
			silent, accepted := nettest.Silent(t)
			args := append(unreachableRepo(t, src.yaml, silent), "--timeout", "1h")
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			go func() {
				<-accepted
				cancel(errors.New("test interrupt"))
			}()
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				var out, errb bytes.Buffer
				code := Run(ctx, "test", args, &out, &errb)
				done <- result{code, out.String(), errb.String()}
			}()
			// A failure deadline, not a measure of speed: without
			// cancellation reaching the fetch, Run would wait an hour.
			select {
			case r := <-done:
				if want := "error: interrupted (test interrupt)\n"; r.code != ExitError || r.stdout != "" || r.stderr != want {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no stdout, %q", r.code, r.stdout, r.stderr, want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after its context was cancelled")
			}
		})
	}
}

// TestSIGTERM builds the tool, starts a render that waits on a silent chart
// repository with a long timeout, and sends it SIGTERM: it exits 2 at once
// with one line saying it was interrupted, and nothing on stdout.
func TestSIGTERM(t *testing.T) {
	bin := toolsBinary(t)
	silent, accepted := nettest.Silent(t)
	args := append(unreachableRepo(t, unreachableSources[0].yaml, silent), "--timeout", "1h")
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			if err := <-exited; err != nil {
				t.Logf("killed: %v", err)
			}
		}
	})
	select {
	case <-accepted:
	case err := <-exited:
		t.Fatalf("exited before fetching the chart repository index: %v\n%s", err, stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("the render never reached the chart repository")
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A failure deadline, not a measure of speed.
	select {
	case err := <-exited:
		t.Logf("wait: %v", err) // the exit code is checked below
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
	t.Logf("exited %s after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if want := "error: interrupted (terminated signal received)\n"; cmd.ProcessState.ExitCode() != ExitError || stdout.String() != "" || stderr.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no stdout, %q", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String(), want)
	}
}

// TestUnreachableRepositoryOnce renders two cluster entries whose
// HelmReleases share one unreachable repository (two releases in one, one
// in the other): one error line for the repository, naming the releases and
// cluster that failed on it too, and a summary that counts it once.
func TestUnreachableRepositoryOnce(t *testing.T) {
	refused := nettest.Refused(t)
	src := strings.ReplaceAll(unreachableSources[0].yaml, "$ADDR", refused)
	second := strings.ReplaceAll(src[strings.Index(src, "apiVersion: helm.toolkit.fluxcd.io/v2"):], "name: web,", "name: api,")
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"clusters/a/sources.yaml": src + "\n---\n" + second,
		"clusters/b/sources.yaml": src,
	})
	code, _, stderr := run("render", "--repo", repo, "--cache-dir", t.TempDir(), "--timeout", "1s",
		filepath.Join(repo, "clusters", "a"), filepath.Join(repo, "clusters", "b"))
	var errs []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "error:") {
			errs = append(errs, l)
		}
	}
	if code != ExitError || len(errs) != 1 || !strings.Contains(stderr, "FAILED (1 errors):") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2, one error line, one error counted", code, stderr)
	}
	for _, w := range []string{"http://" + refused, "the same fetch failed for HelmRelease/apps/", " in clusters/a", "HelmRelease/apps/web in clusters/b", "--charts DIR --offline"} {
		if !strings.Contains(errs[0], w) {
			t.Errorf("the error line lacks %q:\n%s", w, errs[0])
		}
	}
}
