package secrets

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

const (
	plain = `apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: apps}
data: {token: c2VjcmV0LXRva2Vu}
stringData: {values.yaml: "auth:\n  password: hunter2\n  port: 5432\n"}`
	sealed = `apiVersion: v1
kind: Secret
metadata: {name: sealed, namespace: apps}
stringData: {password: "ENC[AES256_GCM,data:x]"}
sops: {version: 3.10.2}`
	cm = `apiVersion: v1
kind: ConfigMap
metadata: {name: vars, namespace: apps}
data: {A: b}`
)

func get(t *testing.T, s *Store, name string) (map[string]string, error) {
	t.Helper()
	sec := &corev1.Secret{}
	if err := s.Get(context.Background(), client.ObjectKey{Namespace: "apps", Name: name}, sec); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range sec.Data {
		out[k] = string(v)
	}
	return out, nil
}

func TestStoreSecrets(t *testing.T) {
	store := NewStore(objects(t, plain, sealed, cm), false)
	tests := []struct {
		name     string
		requests map[string]Request
		secret   string
		want     map[string]string
		notFound bool
		warn     string
	}{
		{
			name:   "present secret is masked",
			secret: "plain",
			want: map[string]string{
				"token":       "placeholder-secret-apps-plain-token",
				"values.yaml": "auth:\n  password: placeholder-secret-apps-plain-values.yaml\n  port: 5432\n",
			},
		},
		{
			name:     "missing and required stands in",
			requests: map[string]Request{"absent": {Keys: map[string]string{"values.yaml": "{}"}}},
			secret:   "absent",
			want:     map[string]string{"values.yaml": "{}"},
			warn:     "Secret apps/absent is not in the render: placeholder values used",
		},
		{
			name:     "missing and optional stays missing",
			requests: map[string]Request{"absent": {Optional: true}},
			secret:   "absent",
			notFound: true,
		},
		{name: "missing and not requested", secret: "absent", notFound: true},
		{
			name:   "SOPS keys stand in",
			secret: "sealed",
			want:   map[string]string{"password": "placeholder-secret-apps-sealed-password"},
			warn:   "Secret apps/sealed is SOPS-encrypted: placeholder values used",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := store.View("apps", tt.requests)
			got, err := get(t, view, tt.secret)
			if tt.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if w := strings.Join(view.Warnings(), "\n"); w != tt.warn {
				t.Errorf("warnings = %q, want %q", w, tt.warn)
			}
		})
	}
	shown, err := get(t, NewStore(objects(t, plain), true), "plain")
	if err != nil || shown["token"] != "secret-token" {
		t.Errorf("showSecrets: %v %v", shown, err)
	}
}

func TestMaskObject(t *testing.T) {
	in := objects(t, plain, cm)
	masked := MaskObject(in[0])
	if d, _, _ := unstructured.NestedStringMap(masked.Object, "data"); d["token"] != "Kioq" {
		t.Errorf("data not masked: %v", d)
	}
	if d, _, _ := unstructured.NestedStringMap(masked.Object, "stringData"); d["values.yaml"] != Mask {
		t.Errorf("stringData not masked: %v", d)
	}
	if d, _, _ := unstructured.NestedStringMap(in[0].Object, "data"); d["token"] != "c2VjcmV0LXRva2Vu" {
		t.Errorf("the original was modified")
	}
	if MaskObject(in[1]) != in[1] {
		t.Errorf("a ConfigMap was copied or masked")
	}
}
