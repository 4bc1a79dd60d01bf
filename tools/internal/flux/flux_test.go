package flux

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func objectOf(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		name, in, kind string
		want           Ref
		wantErr        bool
	}{
		{name: "default kind", in: "flux-system/flux-system", kind: "GitRepository", want: Ref{Group: "source.toolkit.fluxcd.io", Kind: "GitRepository", Namespace: "flux-system", Name: "flux-system"}},
		{name: "explicit kind", in: "OCIRepository/apps/charts", want: Ref{Group: "source.toolkit.fluxcd.io", Kind: "OCIRepository", Namespace: "apps", Name: "charts"}},
		{name: "too short", in: "name", kind: "GitRepository", wantErr: true},
		{name: "kind required", in: "ns/name", wantErr: true},
		{name: "empty part", in: "GitRepository//name", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRef(tt.in, tt.kind)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{name: "valid Kustomization", yaml: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec: {path: ./x, prune: true, interval: 1m, sourceRef: {kind: GitRepository, name: s}}"},
		{name: "unknown field", yaml: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec: {pathh: ./x}", wantErr: `unknown field "spec.pathh"`},
		{name: "old version", yaml: "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata: {name: a}", wantErr: "use helm.toolkit.fluxcd.io/v2"},
		{name: "source typo", yaml: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: a}\nspec: {url: https://x, intervall: 1m}", wantErr: `unknown field "spec.intervall"`},
		{name: "wrong type", yaml: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a}\nspec: {suspend: sometimes}", wantErr: "cannot unmarshal"},
		{name: "not flux", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nweird: field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(objectOf(t, tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeVersionError(t *testing.T) {
	_, err := DecodeKustomization(objectOf(t, "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata: {name: a}"))
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("err = %v, want ErrUnsupportedVersion", err)
	}
}
