package flux

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	objects "github.com/aks-gitops/platform/tools/internal/object"
)

// fluxSeeds are Flux objects as a repository holds them, valid and not.
var fluxSeeds = []string{
	"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n  postBuild:\n    substitute: {cluster: prod}\n    substituteFrom: [{kind: ConfigMap, name: vars, optional: true}]\n",
	"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\nspec:\n  interval: 1h\n  chart:\n    spec: {chart: web, version: '1.x', sourceRef: {kind: HelmRepository, name: charts}}\n  values: {replicas: 2, image: {tag: v1}}\n  valuesFrom:\n  - {kind: ConfigMap, name: web-values, valuesKey: values.yaml, targetPath: a.b}\n",
	"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\nspec: {chartRef: {kind: OCIRepository, name: web}, suspend: sometimes}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system}\nspec: {url: 'ssh://git@github.com/x/y', ref: {branch: main}, interval: 1m}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: web}\nspec: {url: 'oci://ghcr.io/x/web', ref: {semver: '>=1.0.0'}, interval: 5m}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: charts}\nspec: {url: 'https://charts.example.com', intervall: 1m}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: c}\nspec: {chart: c, sourceRef: {kind: HelmRepository, name: r}}\n",
	"apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata: {name: b}\nspec: {bucketName: b, endpoint: e}\n",
	"apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata: {name: old}\n",
	"apiVersion: a/b/c\nkind: Kustomization\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: kustomize.toolkit.fluxcd.io/v1\n  kind: Kustomization\n  metadata: {name: a}\n- 3\n",
	"{\"apiVersion\": \"kustomize.toolkit.fluxcd.io/v1\", \"kind\": \"Kustomization\", \"spec\": {\"timeout\": 1e400}}",
	"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {interval: .nan, path: &p x, prune: *p}\n",
	"---\n---\nnull\n",
}

// FuzzDecode feeds YAML documents, decoded the ways the tool decodes
// repository files (sigs.k8s.io/yaml into a map, and object.Decode for a
// stream), to every Flux decoder. Whatever the input, the decoders return
// an object or an error: a panic here is a panic in `tools render`.
func FuzzDecode(f *testing.F) {
	for _, s := range fluxSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var us []*unstructured.Unstructured
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err == nil && m != nil {
			us = append(us, &unstructured.Unstructured{Object: m})
		}
		if decoded, err := objects.Decode(data); err == nil {
			us = append(us, decoded...)
		}
		for _, u := range us {
			decodeAll(t, u)
		}
	})
}

func decodeAll(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	if ks, err := DecodeKustomization(u); err == nil && ks == nil {
		t.Error("DecodeKustomization: nil object and nil error")
	}
	if hr, err := DecodeHelmRelease(u); err == nil {
		// What the renderer reads from every HelmRelease.
		_ = hr.GetValues()
		_ = hr.GetReleaseName()
		_ = hr.GetReleaseNamespace()
		_ = hr.GetInstall()
	}
	if _, err := DecodeGitRepository(u); err != nil && err.Error() == "" {
		t.Error("DecodeGitRepository: empty error message")
	}
	_, _ = DecodeOCIRepository(u)
	_, _ = DecodeHelmRepository(u)
	// Validate and the kind's decoder agree on what is valid.
	verr := Validate(u)
	var derr error
	switch u.GetKind() {
	case KustomizationKind:
		_, derr = DecodeKustomization(u)
	case HelmReleaseKind:
		_, derr = DecodeHelmRelease(u)
	case GitRepositoryKind:
		_, derr = DecodeGitRepository(u)
	case OCIRepositoryKind:
		_, derr = DecodeOCIRepository(u)
	case HelmRepositoryKind:
		_, derr = DecodeHelmRepository(u)
	default:
		derr = verr
	}
	// (A kind under another Flux group's apiVersion is one Validate does
	// not know and the decoder rejects by version.)
	otherGroup := errors.Is(derr, ErrUnsupportedVersion) && !errors.Is(verr, ErrUnsupportedVersion)
	if IsFlux(u) && !otherGroup && (verr == nil) != (derr == nil) {
		t.Errorf("%s: Validate says %v, the decoder %v", u.GetKind(), verr, derr)
	}
	ref := RefOf(u)
	_ = ref.String()
	if ref.Kind != "" && ref.Namespace != "" && ref.Name != "" && !strings.Contains(ref.Kind+ref.Namespace+ref.Name, "/") {
		got, err := ParseRef(ref.String(), "")
		if err != nil {
			t.Fatalf("ParseRef(%q): %v", ref.String(), err)
		}
		// The string leaves the group out: ParseRef gives a Flux kind's.
		ref.Group, got.Group = "", ""
		if diff := cmp.Diff(ref, got); diff != "" {
			t.Errorf("ParseRef(RefOf(u).String()) (-want +got):\n%s", diff)
		}
	}
}

// FuzzParseRef checks that ParseRef never panics and that what it accepts
// prints back to a string it parses to the same reference.
func FuzzParseRef(f *testing.F) {
	for _, s := range [][2]string{
		{"flux-system/flux-system", "GitRepository"},
		{"OCIRepository/apps/charts", ""},
		{"name", "GitRepository"},
		{"ns/name", ""},
		{"GitRepository//name", ""},
		{"a/b/c/d", "X"},
		{"/", ""},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, defaultKind string) {
		ref, err := ParseRef(s, defaultKind)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid reference") {
				t.Errorf("ParseRef(%q, %q) error does not name the reference: %v", s, defaultKind, err)
			}
			return
		}
		if ref.Kind == "" || ref.Namespace == "" || ref.Name == "" {
			t.Fatalf("ParseRef(%q, %q) = %+v: an empty part", s, defaultKind, ref)
		}
		if strings.Contains(defaultKind, "/") {
			return // the callers' default kinds are constants without one
		}
		again, err := ParseRef(ref.String(), "")
		if err != nil {
			t.Fatalf("ParseRef(%q) after ParseRef(%q): %v", ref.String(), s, err)
		}
		if diff := cmp.Diff(ref, again); diff != "" {
			t.Errorf("ParseRef(ParseRef(%q).String()) (-want +got):\n%s", s, diff)
		}
	})
}
