package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/nettest"
	"github.com/aks-gitops/platform/tools/internal/report"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// TestDiffLive runs `tools diff --live` in-process against a real API
// server: everything created before Flux applied the render, in sync
// after, drift after hand edits (the Secret's values never shown), and
// exit 2 when the API server cannot be reached.
func TestDiffLive(t *testing.T) {
	e := localEnv(t)
	f := loadFixture(t, filepath.Join("testdata", "diff-live.txtar"), e)
	env := testenv.Start(t)
	cache := t.TempDir()
	live := func(extra ...string) (int, string, string) {
		args := append([]string{"diff", "--live", "--kubeconfig", env.Kubeconfig(), "--repo", f.repo, "--cache-dir", cache}, extra...)
		return run(append(args, filepath.Join(f.repo, "clusters", "test"))...)
	}

	// Nothing applied yet.
	code, stdout, stderr := live()
	wantLines(t, "before the apply", code, ExitFindings, stdout, stderr,
		"clusters/test: live diff against "+env.RESTConfig().Host,
		"warning: the cluster serves no kustomize.toolkit.fluxcd.io/v1: Flux is not installed, prune candidates come from owner labels only",
		"created   Namespace/shop (Kustomization/flux-system/flux-system from clusters/test/namespace.yaml)",
		"created   ConfigMap/shop/web-config (Kustomization/flux-system/flux-system from clusters/test/config.yaml)",
		"    ! warning namespace-in-render: namespace shop is not live yet: Flux creates it first; the object is checked by the API server only then",
		"created   Secret/shop/web-db (Kustomization/flux-system/flux-system from clusters/test/secret.yaml)",
		"clusters/test: 3 created, 0 drifted, 0 prune, 0 failed, 0 skipped, 0 unchanged",
	)

	// Apply the render as kustomize-controller would.
	code, rendered, stderr := run("render", "--repo", f.repo, "--cache-dir", cache, "--show-secrets", filepath.Join(f.repo, "clusters", "test"))
	if code != 0 {
		t.Fatalf("render: exit %d\n%s", code, stderr)
	}
	objs, err := utils.ReadObjects(strings.NewReader(rendered))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.RESTConfig(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rm := ssa.NewResourceManager(c, polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{}),
		ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"})
	opts := ssa.DefaultApplyOptions()
	opts.WaitTimeout = 30 * time.Second
	if _, err := rm.ApplyAllStaged(t.Context(), objs, opts); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = live()
	wantLines(t, "in sync", code, ExitOK, stdout, stderr,
		"clusters/test: 0 created, 0 drifted, 0 prune, 0 failed, 0 skipped, 3 unchanged")

	// Hand edits: a ConfigMap value, the Secret's value, and an object
	// with the owner labels the render does not have.
	patch := func(kind, name, body string) {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		u.SetNamespace("shop")
		u.SetName(name)
		if err := c.Patch(t.Context(), u, client.RawPatch(types.MergePatchType, []byte(body)), client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
	}
	patch("ConfigMap", "web-config", `{"data":{"FEATURE_X":"on"}}`)
	patch("Secret", "web-db", `{"stringData":{"password":"changed-by-hand-in-cluster"}}`)
	extra := objs[1].DeepCopy() // the ConfigMap, with its owner labels
	extra.SetName("left-over")
	extra.SetResourceVersion("")
	if err := c.Create(t.Context(), extra); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = live()
	wantLines(t, "drifted", code, ExitFindings, stdout, stderr,
		"prune     ConfigMap/shop/left-over (Kustomization/flux-system/flux-system)",
		"    ! danger prune: Flux deletes it (garbage collection)",
		"drifted   ConfigMap/shop/web-config (Kustomization/flux-system/flux-system from clusters/test/config.yaml)",
		`    data.FEATURE_X: "on" → "off"`,
		"drifted   Secret/shop/web-db (Kustomization/flux-system/flux-system from clusters/test/secret.yaml)",
		"    data.password: (secret value changed, not shown)",
		"clusters/test: 0 created, 2 drifted, 1 prune, 0 failed, 0 skipped, 1 unchanged",
	)
	comments := t.TempDir()
	_, out, _ := live("--format", "markdown", "--markdown-dir", comments)
	part, err := os.ReadFile(filepath.Join(comments, "live_clusters_test.part-1.md"))
	if err != nil || string(part) != "<!-- tools-diff:live/clusters/test:part-1 -->\n"+out {
		t.Errorf("--markdown-dir: %v\n%s", err, part)
	}
	for _, format := range []string{"text", "json", "markdown"} {
		_, out, _ := live("--format", format)
		for _, secret := range []string{"fixture-password-in-git", "changed-by-hand-in-cluster"} {
			if strings.Contains(out, secret) {
				t.Errorf("--format %s shows the Secret value %q", format, secret)
			}
		}
		if format == "json" {
			var doc struct {
				Version  int
				Verb     string
				Clusters []struct {
					Drifted bool
					Summary map[string]int
					Results []struct{ Status, Action string }
				}
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Version != report.SchemaVersion || doc.Verb != "diff --live" || len(doc.Clusters) != 1 ||
				!doc.Clusters[0].Drifted || doc.Clusters[0].Summary["drifted"] != 2 {
				t.Errorf("--format json: %v %+v\n%s", err, doc, out)
			}
		}
	}

	// No API server: exit 2 and one error line, never "in sync".
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	kc, err := os.ReadFile(env.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(t.TempDir(), "kubeconfig")
	host := strings.TrimPrefix(env.RESTConfig().Host, "https://")
	if err := os.WriteFile(dead, []byte(strings.ReplaceAll(string(kc), host, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run("diff", "--live", "--kubeconfig", dead, "--repo", f.repo, "--cache-dir", cache, filepath.Join(f.repo, "clusters", "test"))
	errLine := ""
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "error: ") {
			errLine = l
		}
	}
	if code != ExitError || stdout != "" || !strings.Contains(errLine, "kube-apiserver https://"+addr) {
		t.Errorf("unreachable API server: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}

	// A missing context is a usage error.
	code, _, stderr = live("--context", "nope")
	if code != ExitError || !strings.Contains(stderr, `context "nope" does not exist`) {
		t.Errorf("--context nope: exit %d, stderr:\n%s", code, stderr)
	}
}

// wantLines checks the exit code and that stdout holds each line, in order.
func wantLines(t *testing.T, step string, code, wantCode int, stdout, stderr string, lines ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", step, code, wantCode, stdout, stderr)
		return
	}
	rest := stdout
	for _, l := range lines {
		i := strings.Index(rest, l+"\n")
		if i < 0 {
			t.Errorf("%s: stdout lacks (in order) %q:\n%s", step, l, stdout)
			return
		}
		rest = rest[i+len(l)+1:]
	}
}

// TestDiffLiveChecksFirst: the arguments and the kubeconfig are checked
// before anything renders (no render summary: one error line, exit 2), and
// an API server that accepts and never answers ends the comparison at
// --live-timeout with exit 2, never "in sync".
func TestDiffLiveChecksFirst(t *testing.T) {
	f := loadFixture(t, filepath.Join("testdata", "diff-live.txtar"), localEnv(t))
	entry := filepath.Join(f.repo, "clusters", "test")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"two entries", []string{"--kubeconfig", "/nonexistent", entry, entry}, "give one PATH (got 2"},
		{"no kubeconfig", []string{"--kubeconfig", filepath.Join(t.TempDir(), "missing"), entry}, "kubeconfig "},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(append([]string{"diff", "--live", "--repo", f.repo, "--cache-dir", t.TempDir()}, c.args...)...)
			if code != ExitError || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and one line with %q, before any render", code, stdout, stderr, c.want)
			}
		})
	}

	silent, _ := nettest.Silent(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeTree(t, filepath.Dir(kubeconfig), map[string]string{"kubeconfig": `apiVersion: v1
kind: Config
clusters: [{name: silent, cluster: {server: "http://` + silent + `"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: silent, context: {cluster: silent, user: u}}]
current-context: silent
`})
	for _, c := range []struct{ request, whole, want string }{
		{"1s", "0", "kube-apiserver http://" + silent},
		{"30s", "1s", "not done within --live-timeout 1s"},
	} {
		code, stdout, stderr := run("diff", "--live", "--repo", f.repo, "--cache-dir", t.TempDir(), "--kubeconfig", kubeconfig,
			"--request-timeout", c.request, "--live-timeout", c.whole, entry)
		if code != ExitError || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("silent API server, --request-timeout %s --live-timeout %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q",
				c.request, c.whole, code, stdout, stderr, c.want)
		}
	}
}
