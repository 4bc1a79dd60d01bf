package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// writeTree writes files (relative path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGitRepositorySource renders a Kustomization and a chart whose source
// is another GitRepository, cloned from a real Git server on loopback at a
// semver tag, with .sourceignore and spec.ignore honoured; a second run
// works offline from the cache, and offline without it fails clearly.
func TestGitRepositorySource(t *testing.T) {
	srv, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(srv.Root()) })
	if err := srv.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.StopHTTP)

	remote := t.TempDir()
	writeTree(t, remote, map[string]string{
		"deploy/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-git, namespace: default}\n",
		"deploy/ignored.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sourceignored, namespace: default}\n",
		"deploy/spec-ignored.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: spec-ignored, namespace: default}\n",
		".sourceignore":                 "deploy/ignored.yaml\n",
		"charts/tiny/Chart.yaml":        "apiVersion: v2\nname: tiny\nversion: 1.0.0\n",
		"charts/tiny/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-tiny'}\n",
	})
	if err := srv.InitRepo(remote, "main", "org/shared.git"); err != nil {
		t.Fatal(err)
	}
	bare, err := gogit.PlainOpen(filepath.Join(srv.Root(), "org", "shared.git"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := bare.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.CreateTag("v1.2.0", head.Hash(), nil); err != nil {
		t.Fatal(err)
	}

	repo := t.TempDir()
	url := srv.HTTPAddress() + "/org/shared.git"
	writeTree(t, repo, map[string]string{"clusters/test/shared.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: shared, namespace: flux-system}
spec:
  interval: 1h
  url: ` + url + `
  ref: {semver: ">=1.0.0 <2.0.0"}
  ignore: |
    deploy/spec-ignored.yaml
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: shared, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  sourceRef: {kind: GitRepository, name: shared}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: tiny, namespace: default}
spec:
  interval: 1h
  chart:
    spec:
      chart: ./charts/tiny
      sourceRef: {kind: GitRepository, name: shared, namespace: flux-system}
`})
	cache := t.TempDir()
	args := []string{"render", "--repo", repo, "--self-source", "flux-system/flux-system", "--cache-dir", cache, filepath.Join(repo, "clusters", "test")}
	code, stdout, stderr := run(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"name: from-git", "name: tiny-tiny", "from GitRepository/flux-system/shared@v1.2.0@sha1:" + head.Hash().String() + ":deploy/cm.yaml"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, notWant := range []string{"name: sourceignored", "name: spec-ignored"} {
		if strings.Contains(stdout, notWant) {
			t.Errorf("output has %q, which the source ignores", notWant)
		}
	}
	code, offline, stderr := run(append([]string{"render", "--offline"}, args[1:]...)...)
	if code != 0 || offline != stdout {
		t.Errorf("offline from the cache: exit %d, same output %v: %s", code, offline == stdout, stderr)
	}
	args[6] = t.TempDir() // an empty cache
	code, _, stderr = run(append([]string{"render", "--offline"}, args[1:]...)...)
	if code != ExitError || !strings.Contains(stderr, "GitRepository flux-system/shared ("+url+"): not available offline") {
		t.Errorf("offline without cache: exit %d: %s", code, stderr)
	}
}
