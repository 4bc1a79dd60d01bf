package cli

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/browsertest"
)

// exampleTree is the example repository's files (testdata/example), keyed
// by their path in this repository, so the Kustomizations' paths hold.
func exampleTree(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join(repoRoot, "testdata", "example")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// exampleDeployment is the example's base Deployment (the apps layer).
const exampleDeployment = "testdata/example/apps/base/deployment.yaml"

// breakDeployment gives the example's Deployment in tree a field its
// schema does not know (a schema error) and the image tag given.
func breakDeployment(tree map[string]string, tag string) {
	tree[exampleDeployment] = strings.Replace(tree[exampleDeployment],
		"image: nginxinc/nginx-unprivileged:1.29.1", "image: nginxinc/nginx-unprivileged:"+tag+"\n          imagePullPolicyy: Always", 1)
}

// artifactsDir is where a test keeps what a person should look at after
// the run (screenshots): $TEST_ARTIFACTS (the Makefile sets it to
// out/test-artifacts, which CI uploads), else the test's temporary
// directory.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// TestHTMLReportsInChromium writes the check and diff reports of a pull
// request that breaks a Deployment's schema and deletes a Namespace, opens
// each in a real headless Chromium from the file, offline, and checks what
// a reader gets: the page loads with no request but itself and no console
// error (its Content-Security-Policy would report any script or fetch),
// every section is there for the cluster (graph with the failing or
// changed layer marked, layers, findings with their origin file; danger
// notes and changes by layer), the parts fold and unfold with a click and
// no script, and a screenshot of each is kept.
func TestHTMLReportsInChromium(t *testing.T) {
	base := exampleTree(t)
	head := exampleTree(t)
	breakDeployment(head, "1.29.2")
	delete(head, "testdata/example/infrastructure/controllers/namespace.yaml")
	dir := commitTrees(t, base, head)
	cache := t.TempDir()
	flags := []string{"--repo", dir, "--cache-dir", cache, "--offline", "--charts", filepath.Join(dir, "testdata/example/charts")}
	entry := "testdata/example/clusters/demo"
	out := artifactsDir(t)

	code, checkHTML, stderr := runIn(t, dir, append([]string{"check", "--format", "html", "--rules", "none", entry}, flags...)...)
	if code != ExitFindings {
		t.Fatalf("check: exit %d, want 1 (findings):\n%s", code, stderr)
	}
	code, diffHTML, stderr := runIn(t, dir, append([]string{"diff", "--base", "main", "--format", "html", entry}, flags...)...)
	if code != ExitFindings {
		t.Fatalf("diff: exit %d, want 1 (changes):\n%s", code, stderr)
	}

	for _, tt := range []struct {
		name, html string
		// sections each cluster must have; marked is the class of the
		// layer the graph must mark.
		sections []string
		marked   string
		text     []string
	}{
		{
			name: "check", html: checkHTML, sections: []string{"graph", "layers", "findings"}, marked: "error",
			text: []string{"Deployment.apps/hello/web", "imagePullPolicyy", "testdata/example/apps/base/deployment.yaml", "flux-system/apps"},
		},
		{
			name: "diff", html: diffHTML, sections: []string{"notes", "graph", "counts", "changes"}, marked: "danger",
			text: []string{"Namespace/hello", "danger", "deleting a Namespace deletes everything in it", "flux-system/infra-controllers"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.html, "<script") || strings.Contains(tt.html, "http://") && !strings.Contains(tt.html, `xmlns="http://www.w3.org/2000/svg"`) {
				t.Error("the page has a script or a link to the network")
			}
			file := filepath.Join(t.TempDir(), tt.name+".html")
			if err := os.WriteFile(file, []byte(tt.html), 0o644); err != nil {
				t.Fatal(err)
			}
			page := browsertest.Open(t, (&url.URL{Scheme: "file", Path: file}).String())
			for _, r := range page.Requests() {
				if !strings.HasPrefix(r, "file://") && !strings.HasPrefix(r, "data:") {
					t.Errorf("the page requested %s: it must load offline", r)
				}
			}
			if n := browsertest.Eval[int](t, page, `document.querySelectorAll('section[data-section=cluster]').length`); n != 1 {
				t.Errorf("%d cluster sections, want 1", n)
			}
			for _, s := range tt.sections {
				sel := `section[data-cluster="` + entry + `"] [data-section=` + s + `]`
				if n := browsertest.Eval[int](t, page, `document.querySelectorAll('`+sel+`').length`); n != 1 {
					t.Errorf("section %s: %d elements, want 1", s, n)
				}
			}
			// The graph is drawn (a box per Kustomization, arrows between)
			// and the layer at fault is marked.
			if n := browsertest.Eval[int](t, page, `document.querySelectorAll('svg.graph g.node').length`); n < 3 {
				t.Errorf("the graph has %d nodes, want the 3 Kustomizations", n)
			}
			if n := browsertest.Eval[int](t, page, `document.querySelectorAll('svg.graph path.edge').length`); n < 2 {
				t.Errorf("the graph has %d edges, want at least 2", n)
			}
			if n := browsertest.Eval[int](t, page, `document.querySelectorAll('svg.graph g.node.`+tt.marked+`').length`); n != 1 {
				t.Errorf("%d graph nodes marked %s, want 1", n, tt.marked)
			}
			if w := browsertest.Eval[float64](t, page, `document.querySelector('svg.graph').getBoundingClientRect().width`); w < 200 {
				t.Errorf("the graph is %vpx wide: not drawn", w)
			}
			body := browsertest.Eval[string](t, page, `document.body.innerText`)
			for _, want := range tt.text {
				if !strings.Contains(body, want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			// Folding needs no script: the graph's section closes on a
			// click of its summary and opens again.
			open := `document.querySelector('details[data-section=graph]').open`
			if !browsertest.Eval[bool](t, page, open) {
				t.Fatal("the graph is folded at first")
			}
			page.Click(t, "details[data-section=graph] > summary")
			if browsertest.Eval[bool](t, page, open) {
				t.Error("a click on its summary does not fold the graph")
			}
			page.Click(t, "details[data-section=graph] > summary")
			if !browsertest.Eval[bool](t, page, open) {
				t.Error("a second click does not unfold the graph")
			}
			if tt.name == "diff" {
				// A change without danger is folded: its lines show on a
				// click.
				change := `details.change:not(.danger)`
				if body := browsertest.Eval[string](t, page, `document.body.innerText`); strings.Contains(body, "1.29.2") {
					t.Error("the change without a danger note is unfolded at first")
				}
				page.Click(t, change+" > summary")
				if body := browsertest.Eval[string](t, page, `document.body.innerText`); !strings.Contains(body, "+   nginxinc/nginx-unprivileged:1.29.2") {
					t.Errorf("the unfolded change does not show the new image:\n%s", body)
				}
			}
			shot := page.Screenshot(t, filepath.Join(out, "report-"+tt.name+".png"))
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 400 || blank(img) {
				t.Errorf("screenshot %v: too small or blank", b)
			}
			if p := page.Problems(); len(p) > 0 {
				t.Errorf("the browser reported:\n%s", strings.Join(p, "\n"))
			}
		})
	}
}

// blank reports whether an image is one colour.
func blank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}
