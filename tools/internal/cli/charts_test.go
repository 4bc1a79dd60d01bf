package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/chartserver"
	"github.com/aks-gitops/platform/tools/internal/oci"
	"github.com/aks-gitops/platform/tools/internal/registrytest"
)

// TestChartsPull pulls the charts of an entry whose HelmReleases come from a
// real HTTP Helm repository and a real OCI registry on loopback: each archive
// is written byte for byte as served, SHA256SUMS checks them, and a render
// with only that directory, offline and with an empty cache, equals the
// render from the network.
func TestChartsPull(t *testing.T) {
	srv := chartserver.Start(t, chartDirs(t)...)
	host := registrytest.Start(t)
	ociArchive := chartArchive(t, filepath.Join(chartsDir, "demo-app-1.0.0"))
	registrytest.Push(t, host+"/charts/demo-app:1.0.0", ociArchive, oci.HelmChartMediaType, registrytest.HelmConfigMediaType)

	repo := t.TempDir()
	writeTree(t, repo, map[string]string{"clusters/test/releases.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: http, namespace: db}
spec: {interval: 1h, url: "` + srv.URL() + `"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: db, namespace: db}
spec:
  interval: 1h
  chart: {spec: {chart: demo-db, version: 0.3.0, sourceRef: {kind: HelmRepository, name: http}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: oci, namespace: app}
spec: {type: oci, interval: 1h, url: "oci://` + host + `/charts"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: app}
spec:
  interval: 1h
  chart: {spec: {chart: demo-app, version: 1.0.0, sourceRef: {kind: HelmRepository, name: oci}}}
`})
	entry := filepath.Join(repo, "clusters", "test")
	out := filepath.Join(t.TempDir(), "charts")

	code, stdout, stderr := run("charts", "pull", "--repo", repo, "--cache-dir", t.TempDir(), entry, "-o", out)
	if code != ExitOK {
		t.Fatalf("charts pull: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "demo-app-1.0.0.tgz sha256:") || !strings.HasPrefix(lines[1], "demo-db-0.3.0.tgz sha256:") {
		t.Fatalf("stdout:\n%s", stdout)
	}

	// Byte for byte as served.
	resp, err := http.Get(srv.URL() + "/demo-db-0.3.0.tgz")
	if err != nil {
		t.Fatal(err)
	}
	served, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET demo-db-0.3.0.tgz: %d %v", resp.StatusCode, err)
	}
	sums := ""
	for _, c := range []struct {
		file string
		want []byte
	}{{"demo-app-1.0.0.tgz", ociArchive}, {"demo-db-0.3.0.tgz", served}} {
		file, want := c.file, c.want
		got, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from the archive its repository serves", file)
		}
		sum := sha256.Sum256(got)
		if !strings.Contains(stdout, file+" sha256:"+hex.EncodeToString(sum[:])) {
			t.Errorf("stdout has not the sha256 of %s:\n%s", file, stdout)
		}
		sums += hex.EncodeToString(sum[:]) + "  " + file + "\n"
	}
	if got, err := os.ReadFile(filepath.Join(out, "SHA256SUMS")); err != nil || string(got) != sums {
		t.Errorf("SHA256SUMS: %v\n%s\nwant the lines of\n%s", err, got, sums)
	}

	// The directory is what --charts takes: offline, empty cache, same render.
	code, online, stderr := run("render", "--repo", repo, "--cache-dir", t.TempDir(), entry)
	if code != ExitOK {
		t.Fatalf("render online: exit %d\n%s", code, stderr)
	}
	code, offline, stderr := run("render", "--repo", repo, "--cache-dir", t.TempDir(), "--offline", "--charts", out, entry)
	if code != ExitOK || offline != online || !strings.Contains(offline, "demo-db") {
		t.Errorf("render --charts %s --offline: exit %d, equal to the online render: %v\n%s", out, code, offline == online, stderr)
	}

	if code, _, stderr := run("charts", "pull", "--repo", repo, entry); code != ExitError || !strings.Contains(stderr, "-o DIR is required") {
		t.Errorf("no -o: exit %d\n%s", code, stderr)
	}
}
