package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/aks-gitops/platform/tools/internal/synth"
)

// TestRenderCacheInvalidation changes one input at a time in a rendered
// repository and checks that a render with the warm cache equals a render
// without it — and differs from the render before the change — for every
// kind of input: a base file, a file and a kustomization added to a
// generated directory, a substitution variable, a chart template, a
// HelmRelease value, a kustomization file, a Flux Kustomization's spec and
// a component that appears where a missing one was ignored.
func TestRenderCacheInvalidation(t *testing.T) {
	repo := t.TempDir()
	if err := synth.Generate(repo, synth.Size{Kustomizations: 14, HelmReleases: 4, Charts: 2}, 0); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	render := func(extra ...string) string {
		t.Helper()
		args := append([]string{
			"render", "--repo", repo, "--offline", "--cache-dir", cache,
			"--charts", filepath.Join(repo, synth.ChartsDir),
		}, extra...)
		code, stdout, stderr := run(append(args, filepath.Join(repo, synth.Entry))...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return stdout
	}
	edit := func(rel, old, repl string) {
		t.Helper()
		p := filepath.Join(repo, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s does not contain %q", rel, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, repl, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, stderr := run("render", "--repo", repo, "--offline", "--cache-dir", cache, "--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry))
	if !strings.Contains(stderr, "render cache: 0 hits") {
		t.Fatalf("first run: %s", stderr)
	}
	_, _, stderr = run("render", "--repo", repo, "--offline", "--cache-dir", cache, "--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry))
	if !strings.Contains(stderr, "render cache: 19 hits, 0 misses") {
		t.Fatalf("second run did not hit the cache: %s", stderr)
	}
	// Another checkout of the same content (a diff's base, a CI clone)
	// shares the entries.
	clone := filepath.Join(t.TempDir(), "clone")
	if err := os.CopyFS(clone, os.DirFS(repo)); err != nil {
		t.Fatal(err)
	}
	_, _, stderr = run("render", "--repo", clone, "--offline", "--cache-dir", cache, "--charts", filepath.Join(clone, synth.ChartsDir), filepath.Join(clone, synth.Entry))
	if !strings.Contains(stderr, "render cache: 19 hits, 0 misses") {
		t.Fatalf("a copy of the repository did not hit the cache: %s", stderr)
	}

	changes := []struct {
		name   string
		change func()
		want   string
	}{
		{name: "base file", change: func() { edit("bases/web/deployment.yaml", "cpu: 10m", "cpu: 11m") }, want: "cpu: 11m"},
		{name: "file added to a generated directory", change: func() {
			if err := os.WriteFile(filepath.Join(repo, "groups", "03", "extra.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: added, namespace: default}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "name: added"},
		{name: "kustomization added below a generated directory", change: func() {
			dir := filepath.Join(repo, "groups", "03", "sub")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range map[string]string{
				"kustomization.yaml": "resources: [cm.yaml]\n",
				"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: added-below, namespace: default}\n",
			} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}, want: "name: added-below"},
		{name: "substitution variable", change: func() { edit(synth.Entry+"/cluster-vars.yaml", "ENVIRONMENT: bench", "ENVIRONMENT: changed") }, want: "value: changed"},
		{name: "chart template", change: func() {
			edit("charts/app01/templates/service.yaml", "type: {{ .Values.service.type }}", "type: {{ .Values.service.type }}\n  sessionAffinity: ClientIP")
		}, want: "sessionAffinity: ClientIP"},
		{name: "HelmRelease value", change: func() { edit("apps/000/releases.yaml", "owner: team-0", "owner: team-zero") }, want: "owner: team-zero"},
		// A hit runs no generator where the directory has a kustomization
		// file: what the generator reads must be in the key.
		{name: "kustomization file", change: func() { edit("apps/000/kustomization.yaml", `newTag: "1.0.0"`, `newTag: "1.0.1"`) }, want: "registry.example.com/web:1.0.1"},
		{name: "Flux Kustomization spec", change: func() {
			edit("groups/00/apps.yaml", "  path: ./apps/000\n", "  path: ./apps/000\n  images:\n  - name: registry.example.com/web\n    newTag: 2.0.0\n  ignoreMissingComponents: true\n  components: [../extra]\n")
		}, want: "registry.example.com/web:2.0.0"},
		{name: "ignored component added", change: func() {
			dir := filepath.Join(repo, "apps", "extra")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			component := "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n- pairs: {component: extra}\n"
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(component), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: "component: extra"},
	}
	before := render()
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			c.change()
			warm := render()
			// Fresh: no render cache and no snapshot kept from before.
			fresh := render("--no-render-cache", "--cache-dir", t.TempDir())
			if warm != fresh {
				t.Fatalf("the cached render differs from a fresh one after the change")
			}
			if warm == before || !strings.Contains(warm, c.want) {
				t.Fatalf("the change (%q) is not in the render", c.want)
			}
			before = warm
		})
	}
}

// TestRenderConcurrentSnapshots renders one repository four times at once
// with one cache directory: one render holds the snapshot kept there, the
// others make temporary ones, and all write the same output.
func TestRenderConcurrentSnapshots(t *testing.T) {
	repo := t.TempDir()
	if err := synth.Generate(repo, synth.Size{Kustomizations: 14, HelmReleases: 4, Charts: 2}, 0); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	outputs := make([]string, 4)
	var g errgroup.Group
	for i := range outputs {
		g.Go(func() error {
			code, stdout, stderr := run("render", "--repo", repo, "--offline", "--cache-dir", cache,
				"--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry))
			if code != 0 {
				return fmt.Errorf("render %d: exit %d: %s", i, code, stderr)
			}
			outputs[i] = stdout
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, out := range outputs[1:] {
		if out != outputs[0] || !strings.Contains(out, "kind: Deployment") {
			t.Errorf("render %d differs from render 0", i+1)
		}
	}
	kept, err := filepath.Glob(filepath.Join(cache, "snapshots", "*.lock"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept snapshots: %v (%v), want one", kept, err)
	}
}

// TestRenderDeterministicShuffled renders two copies of a synthetic
// repository whose documents and list entries are in different (shuffled)
// orders, each with GOMAXPROCS 1 and 2 and no render cache: all four outputs
// are byte-identical.
func TestRenderDeterministicShuffled(t *testing.T) {
	size := synth.Size{Kustomizations: 30, HelmReleases: 8, Charts: 3}
	var outputs []string
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, seed := range []uint64{1, 2} {
		repo := t.TempDir()
		if err := synth.Generate(repo, size, seed); err != nil {
			t.Fatal(err)
		}
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			code, stdout, stderr := run("render", "--repo", repo, "--offline", "--no-render-cache", "--cache-dir", t.TempDir(),
				"--charts", filepath.Join(repo, synth.ChartsDir), filepath.Join(repo, synth.Entry))
			if code != 0 {
				t.Fatalf("seed %d, GOMAXPROCS %d: exit %d: %s", seed, procs, code, stderr)
			}
			outputs = append(outputs, stdout)
		}
	}
	for i, out := range outputs[1:] {
		if out != outputs[0] {
			t.Errorf("render %d differs from render 0", i+1)
		}
	}
	// The shuffle must really have changed the input.
	a, b := t.TempDir(), t.TempDir()
	if err := synth.Generate(a, size, 1); err != nil {
		t.Fatal(err)
	}
	if err := synth.Generate(b, size, 2); err != nil {
		t.Fatal(err)
	}
	fa, _ := os.ReadFile(filepath.Join(a, synth.Entry, "groups.yaml"))
	fb, _ := os.ReadFile(filepath.Join(b, synth.Entry, "groups.yaml"))
	if string(fa) == string(fb) {
		t.Error("seeds 1 and 2 produced the same input order")
	}
}
