package helm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// Bits of FuzzValues' flags argument.
const (
	fuzzSecret      = 1 << iota // the reference is to a Secret, not a ConfigMap
	fuzzOptional                // the reference is optional
	fuzzLiteral                 // targetPath takes the content literally
	fuzzMissing                 // the referenced object is not in the render
	fuzzSOPS                    // the Secret is SOPS-encrypted
	fuzzShowSecrets             // --show-secrets: Secret values unmasked
	fuzzTwice                   // a second reference to the same object, no targetPath
)

// FuzzValues merges a HelmRelease's values with one valuesFrom reference
// the way the render does (Values: our Secret stand-ins and masking over
// fluxcd/pkg/chartutil's ChartValuesFromReferences, Helm's strvals for a
// targetPath). The content, the key, the target path and the release's
// values are fuzzed. Values returns merged values or an error, never
// panics, and what it returns encodes as JSON (the cache key and Helm's
// values both need that).
func FuzzValues(f *testing.F) {
	seeds := []struct {
		values, data    string
		targetPath, key string
		flags           uint8
	}{
		{"replicas: 2\nimage: {tag: v1}\n", "image:\n  repository: nginx\n", "", "", 0},
		{"a: {b: 1}\n", "c: d\n", "", "values.yaml", fuzzSecret},
		{"a: {b: 1}\n", "secret-value", "a.b", "password", fuzzSecret | fuzzShowSecrets},
		{"", "v", "a.b[0].c", "k", fuzzSecret | fuzzMissing},
		{"", "v", "a.b", "k", fuzzSecret | fuzzSOPS},
		{"x: 1", "'quoted'", "x", "k", 0},
		{"x: 1", "a,b=c", `a\.b.c`, "k", fuzzLiteral},
		{"x: 1", "{a: [1, 2]}", "list[65536]", "k", 0},
		{"x: 1", "v", "a[", "k", fuzzOptional},
		{"x: 1", "v", "a[-1]", "k", fuzzTwice},
		{"x: 1", "v", "=", "k", 0},
		{"- not\n- a map\n", "[1, 2]", "", "k", fuzzTwice},
		{"x: .nan\n", "y: &a [*a]\n", "", "", fuzzOptional | fuzzMissing},
	}
	for _, s := range seeds {
		f.Add([]byte(s.values), []byte(s.data), s.targetPath, s.key, s.flags)
	}
	f.Fuzz(func(t *testing.T, values, data []byte, targetPath, key string, flags uint8) {
		const ns, name = "apps", "web-values"
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}
		if js, err := yaml.YAMLToJSON(values); err == nil {
			hr.Spec.Values = &apiextensionsv1.JSON{Raw: js}
		}
		kind := "ConfigMap"
		if flags&fuzzSecret != 0 {
			kind = "Secret"
		}
		ref := meta.ValuesReference{
			Kind: kind, Name: name, ValuesKey: key, TargetPath: targetPath,
			Optional: flags&fuzzOptional != 0, Literal: flags&fuzzLiteral != 0,
		}
		hr.Spec.ValuesFrom = []meta.ValuesReference{ref}
		if flags&fuzzTwice != 0 {
			ref.TargetPath = ""
			hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, ref)
		}

		var objs []*unstructured.Unstructured
		if flags&fuzzMissing == 0 {
			objs = append(objs, valuesSource(kind, ns, name, ref.GetValuesKey(), data, flags&fuzzSOPS != 0))
		}
		store := secrets.NewStore(objs, flags&fuzzShowSecrets != 0)

		got, warnings, err := Values(context.Background(), hr, store)
		if err != nil {
			if got != nil || warnings != nil {
				t.Errorf("Values: results beside the error %v", err)
			}
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("Values = %#v: not JSON: %v", got, err)
		}
	})
}

// valuesSource is the ConfigMap or Secret a valuesFrom reference reads,
// holding data under key.
func valuesSource(kind, ns, name, key string, data []byte, sops bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if kind == "ConfigMap" {
		u.Object["data"] = map[string]any{key: string(data)}
		return u
	}
	u.Object["data"] = map[string]any{key: base64.StdEncoding.EncodeToString(data)}
	if sops {
		u.Object["sops"] = map[string]any{"version": "3.9.0"}
	}
	return u
}

// FuzzDecodeDocs feeds DecodeDocs any manifest stream, as a chart's
// templates can produce: it returns objects or an error, never panics, and
// every object it returns has an apiVersion and a kind and holds JSON
// types only (object.Check), so consumers can deep-copy and encode it.
// The objects survive the two trips the tool sends them on unchanged: to
// YAML and back (metadataPostRenderer hands its output to the next
// post-renderer, and render output is read back by diff), and to JSON and
// back into an Unstructured (the render cache).
func FuzzDecodeDocs(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\n# comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec: {replicas: 1}\n",
		"---\n\n---\nnull\n---\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n- {kind: NoVersion}\n",
		"apiVersion: v1\nkind: List\nitems: [1, two]\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  script: |\n    #!/bin/sh\n    echo ---\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {\"a\": \"YQ==\"}}",
		"apiVersion: v1\nkind: ConfigMap\nbig: 1e400\nint: 12345678901234567890\nyes: on\n",
		"apiVersion: v1\nkind: ConfigMap\na: &x {b: *x}\n",
		"kind: ConfigMap\n",
		"apiVersion: v1\nkind: [x]\n",
		"\t- bad\n indentation",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		objs, err := DecodeDocs(stream)
		if err != nil {
			if objs != nil {
				t.Errorf("DecodeDocs: objects beside the error %v", err)
			}
			return
		}
		for i, u := range objs {
			if u.GetAPIVersion() == "" || u.GetKind() == "" {
				t.Errorf("object %d: no apiVersion or kind: %v", i, u.Object)
			}
			if err := object.Check(u.Object); err != nil {
				t.Errorf("object %d: %v", i, err)
			}
			if _, err := u.MarshalJSON(); err != nil {
				t.Errorf("object %d: does not encode: %v", i, err)
			}
			_ = u.DeepCopy()
		}

		var again strings.Builder
		for i, u := range objs {
			data, err := yaml.Marshal(u.Object)
			if err != nil {
				t.Fatalf("object %d: yaml.Marshal: %v", i, err)
			}
			again.WriteString("---\n")
			again.Write(data)
		}
		reread, err := DecodeDocs(again.String())
		if err != nil {
			t.Fatalf("DecodeDocs of its own objects as YAML: %v\n%s", err, again.String())
		}
		if diff := cmp.Diff(objs, reread); diff != "" {
			t.Errorf("objects changed going to YAML and back (-first +again):\n%s\nYAML:\n%s", diff, again.String())
		}
		for i, u := range objs {
			js, err := u.MarshalJSON()
			if err != nil {
				continue // reported above
			}
			back := &unstructured.Unstructured{}
			if err := back.UnmarshalJSON(js); err != nil {
				t.Fatalf("object %d: UnmarshalJSON of its own JSON: %v", i, err)
			}
			if diff := cmp.Diff(u, back); diff != "" {
				t.Errorf("object %d changed going to JSON and back (-first +again):\n%s", i, diff)
			}
		}
	})
}

// FuzzWithValuesFiles merges a HelmChart's valuesFiles the way
// source-controller packages the chart (WithValuesFiles: Helm's ReadValues
// per file, fluxcd/pkg/chartutil's MergeMaps in order), over two fuzzed
// files in the chart. It returns a chart or an error, never panics; the
// merge leaves the input chart alone and the digest is a function of the
// content (the same files give the same digest).
func FuzzWithValuesFiles(f *testing.F) {
	for _, s := range [][2]string{
		{"replicas: 1\nimage: {repository: nginx, tag: v1}\n", "image: {tag: v2}\nextra: [1, 2]\n"},
		{"a: {b: {c: 1}}\n", "a: {b: null}\n"},
		{"a: [1, 2]\n", "a: {b: 1}\n"},
		{"", "null"},
		{"- a list\n", "a: 1\n"},
		{"a: &x {b: *x}\n", "b: 2\n"},
		{"a: 1\na: 2\n", "{\"json\": true}"},
	} {
		f.Add([]byte(s[0]), []byte(s[1]), "values-prod.yaml")
	}
	f.Add([]byte("a: 1"), []byte("b: 2"), "./values.yaml")
	f.Add([]byte("a: 1"), []byte("b: 2"), "missing.yaml")
	f.Fuzz(func(t *testing.T, base, overlay []byte, name string) {
		in := &Chart{
			Chart: &chart.Chart{
				Metadata: &chart.Metadata{Name: "web", Version: "1.0.0"},
				Raw: []*common.File{
					{Name: "values.yaml", Data: base},
					{Name: "values-prod.yaml", Data: overlay},
				},
				Values: map[string]any{"chart": "defaults"},
			},
			Name: "web", Version: "1.0.0", Digest: "sha256:0",
		}
		files := []string{"values.yaml", name}
		out, err := in.WithValuesFiles(files, true, "")
		if err != nil {
			if out != nil {
				t.Errorf("WithValuesFiles: a chart beside the error %v", err)
			}
			return
		}
		if diff := cmp.Diff(map[string]any{"chart": "defaults"}, in.Chart.Values); diff != "" {
			t.Errorf("WithValuesFiles changed the input chart's values (-want +got):\n%s", diff)
		}
		if _, err := json.Marshal(out.Chart.Values); err != nil {
			t.Errorf("merged values %#v: not JSON: %v", out.Chart.Values, err)
		}
		again, err := in.WithValuesFiles(files, true, "")
		if err != nil {
			t.Fatalf("WithValuesFiles again: %v", err)
		}
		if again.Digest != out.Digest {
			t.Errorf("digest %s, then %s for the same files", out.Digest, again.Digest)
		}
	})
}
