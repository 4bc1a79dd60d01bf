package schemas_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	// Imported only so that go.mod records the version its CRDs are
	// generated from: the tool validates Alerts and Providers but does not
	// decode them.
	_ "github.com/fluxcd/notification-controller/api/v1beta3"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/schemas"
)

// controllerGen generates the Flux CRDs from the Go types, as the Flux
// projects do.
const controllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.20.1"

// fluxAPIs are the Flux API packages of the versions the tool supports.
var fluxAPIs = map[string]string{
	"github.com/fluxcd/helm-controller/api":      "v2",
	"github.com/fluxcd/kustomize-controller/api": "v1",
	// Alert and Provider (v1beta3: the version notification-controller
	// v1.9 serves them in); the CRDs only, for validation and the
	// control-plane harness.
	"github.com/fluxcd/notification-controller/api": "v1beta3",
	"github.com/fluxcd/source-controller/api":       "v1",
}

// TestFluxSchemasMatchModules checks the shipped Flux CRDs were generated
// from the Flux API module versions this tool builds with; -update
// regenerates them with controller-gen from those modules' Go types.
func TestFluxSchemasMatchModules(t *testing.T) {
	modules := buildModules(t)
	if *update {
		regenerateFlux(t, modules)
		return
	}
	b, err := schemas.Flux()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(modules, b.Modules); diff != "" {
		t.Errorf("flux/crds.json.gz was generated from other Flux API modules (-built with +generated from); regenerate with -update:\n%s", diff)
	}
	var kinds []string
	for _, u := range b.Objects() {
		kinds = append(kinds, u.GetName())
	}
	sort.Strings(kinds)
	want := []string{"alerts.notification.toolkit.fluxcd.io", "buckets.source.toolkit.fluxcd.io", "externalartifacts.source.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io", "helmcharts.source.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io", "helmrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io", "providers.notification.toolkit.fluxcd.io"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("CRDs (-want +got):\n%s", diff)
	}
}

// buildModules returns the versions of the Flux API modules go.mod requires.
func buildModules(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range f.Require {
		if _, ok := fluxAPIs[r.Mod.Path]; ok {
			out[r.Mod.Path] = r.Mod.Version
		}
	}
	if len(out) != len(fluxAPIs) {
		t.Fatalf("Flux API modules in go.mod: %v", out)
	}
	return out
}

func regenerateFlux(t *testing.T, modules map[string]string) {
	dir := t.TempDir()
	args := []string{"run", controllerGen, "crd"}
	for mod, pkg := range fluxAPIs {
		args = append(args, "paths="+mod+"/"+pkg)
	}
	args = append(args, "output:crd:dir="+dir)
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("controller-gen wrote nothing: %v", err)
	}
	sort.Strings(files)
	b := &schemas.FluxBundle{Modules: modules, Generator: strings.TrimPrefix(controllerGen, "sigs.k8s.io/controller-tools/cmd/")}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		crd := map[string]any{}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		schemas.StripDescriptions(crd)
		b.CRDs = append(b.CRDs, crd)
	}
	var buf bytes.Buffer
	if err := schemas.WriteFlux(&buf, b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("flux", "crds.json.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote flux/crds.json.gz: %d CRDs, %d bytes", len(b.CRDs), buf.Len())
}
