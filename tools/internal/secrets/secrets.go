// Package secrets keeps secret material out of the render: it serves the
// ConfigMaps and Secrets found in a render to Flux's own value loaders, with
// placeholders where a Secret is missing or SOPS-encrypted, and masks Secret
// values for output.
package secrets

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/object"
)

// Mask is what a Secret value is replaced with in any output.
const Mask = "***"

// Placeholder is the value rendered where a Secret's value is needed but must
// not (or cannot) be known: it names the Secret and key so a reader sees where
// the real value will come from.
func Placeholder(namespace, name, key string) string {
	return fmt.Sprintf("%s%s-%s-%s", placeholderPrefix, namespace, name, key)
}

const placeholderPrefix = "placeholder-secret-"

// HasPlaceholder reports whether s holds a Placeholder: a value that stands
// for one the render does not know.
func HasPlaceholder(s string) bool {
	return strings.Contains(s, placeholderPrefix)
}

// IsSOPS reports whether a Secret carries SOPS metadata, i.e. its values are
// encrypted and cannot be used as they are.
func IsSOPS(u *unstructured.Unstructured) bool {
	_, ok := u.Object["sops"]
	return ok
}

// MaskObject returns a copy of a Secret whose values are replaced by Mask
// (base64-encoded under data, so the object stays valid). Other objects are
// returned as they are.
func MaskObject(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	out := u.DeepCopy()
	maskField(out.Object, "data", base64.StdEncoding.EncodeToString([]byte(Mask)))
	maskField(out.Object, "stringData", Mask)
	return out
}

func maskField(obj map[string]any, field, mask string) {
	m, ok := obj[field].(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		m[k] = mask
	}
}

// Data returns a Secret's values decoded, stringData merged over data as the
// API server does.
func Data(u *unstructured.Unstructured) (map[string][]byte, error) {
	out := map[string][]byte{}
	data, _, err := unstructured.NestedStringMap(u.Object, "data")
	if err != nil {
		return nil, err
	}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("data.%s: invalid base64: %w", k, err)
		}
		out[k] = b
	}
	sdata, _, err := unstructured.NestedStringMap(u.Object, "stringData")
	if err != nil {
		return nil, err
	}
	for k, v := range sdata {
		out[k] = []byte(v)
	}
	return out, nil
}

// Request describes what a consumer reads from one Secret, so that a missing
// or encrypted Secret can be stood in for.
type Request struct {
	// Keys maps each key the consumer reads to the content to synthesise
	// when the Secret is unavailable.
	Keys map[string]string
	// Optional references may be absent: a missing Secret stays missing.
	Optional bool
}

// Store serves ConfigMaps and Secrets from a render through the
// controller-runtime client interface that Flux's loaders
// (fluxcd/pkg/chartutil, fluxcd/pkg/kustomize) read with. Only Get is
// served: those loaders call nothing else, and the embedded nil Client makes
// any other call fail loudly instead of pretending to be a cluster.
type Store struct {
	client.Client

	objects     map[object.ID]*unstructured.Unstructured
	showSecrets bool
	// stand-ins for required Secrets that are missing or encrypted, by name
	// in the namespace of the consumer.
	standIns map[object.ID]Request
	warnings []string
}

// NewStore indexes the ConfigMaps and Secrets among objects.
func NewStore(objects []*unstructured.Unstructured, showSecrets bool) *Store {
	s := &Store{objects: map[object.ID]*unstructured.Unstructured{}, showSecrets: showSecrets, standIns: map[object.ID]Request{}}
	for _, u := range objects {
		if u.GroupVersionKind().Group != "" || (u.GetKind() != "ConfigMap" && u.GetKind() != "Secret") {
			continue
		}
		s.objects[object.ID{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}] = u
	}
	return s
}

// Has reports whether the render holds the object.
func (s *Store) Has(kind, namespace, name string) bool {
	_, ok := s.objects[object.ID{Kind: kind, Namespace: namespace, Name: name}]
	return ok
}

// View returns a store over the same objects that stands in for the
// requested Secrets (by name, in namespace) when they are encrypted, or
// missing and not optional.
func (s *Store) View(namespace string, requests map[string]Request) *Store {
	v := &Store{objects: s.objects, showSecrets: s.showSecrets, standIns: map[object.ID]Request{}}
	for name, req := range requests {
		v.standIns[object.ID{Kind: "Secret", Namespace: namespace, Name: name}] = req
	}
	return v
}

// Warnings returns what the store had to stand in for, sorted.
func (s *Store) Warnings() []string {
	out := append([]string(nil), s.warnings...)
	sort.Strings(out)
	return out
}

// StoodIn reports whether any Secret was replaced by a stand-in.
func (s *Store) StoodIn() bool { return len(s.warnings) > 0 }

// Get implements client.Reader for ConfigMaps and Secrets.
func (s *Store) Get(_ context.Context, nn client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		u, ok := s.objects[object.ID{Kind: "ConfigMap", Namespace: nn.Namespace, Name: nn.Name}]
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, nn.Name)
		}
		return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, o)
	case *corev1.Secret:
		return s.getSecret(nn, o)
	default:
		return fmt.Errorf("render store serves only ConfigMaps and Secrets, not %T", obj)
	}
}

func (s *Store) getSecret(nn client.ObjectKey, out *corev1.Secret) error {
	k := object.ID{Kind: "Secret", Namespace: nn.Namespace, Name: nn.Name}
	u, ok := s.objects[k]
	standIn, requested := s.standIns[k]
	if ok && !IsSOPS(u) {
		data, err := Data(u)
		if err != nil {
			return fmt.Errorf("secret %s/%s: %w", nn.Namespace, nn.Name, err)
		}
		out.Name, out.Namespace, out.Data = nn.Name, nn.Namespace, map[string][]byte{}
		for k, v := range data {
			if !s.showSecrets {
				v = maskValue(nn.Namespace, nn.Name, k, v)
			}
			out.Data[k] = v
		}
		return nil
	}
	out.Name, out.Namespace, out.Data = nn.Name, nn.Namespace, map[string][]byte{}
	reason := "not in the render"
	if ok {
		// SOPS leaves key names in clear: stand in for each of them.
		reason = "SOPS-encrypted"
		for _, f := range []string{"data", "stringData"} {
			m, _, _ := unstructured.NestedMap(u.Object, f)
			for k := range m {
				out.Data[k] = []byte(Placeholder(nn.Namespace, nn.Name, k))
			}
		}
	}
	if !ok && (!requested || standIn.Optional) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, nn.Name)
	}
	for k, v := range standIn.Keys {
		out.Data[k] = []byte(v)
	}
	s.warnings = append(s.warnings, fmt.Sprintf("Secret %s/%s is %s: placeholder values used", nn.Namespace, nn.Name, reason))
	return nil
}

// maskValue replaces a secret value by placeholders: a YAML mapping keeps its
// shape with every string leaf replaced (so it still merges as Helm values),
// anything else becomes one placeholder.
func maskValue(namespace, name, key string, v []byte) []byte {
	var doc map[string]any
	if err := yaml.Unmarshal(v, &doc); err == nil && doc != nil {
		ph := Placeholder(namespace, name, key)
		replaceLeaves(doc, ph)
		if out, err := yaml.Marshal(doc); err == nil {
			return out
		}
	}
	return []byte(Placeholder(namespace, name, key))
}

func replaceLeaves(v any, ph string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = replaceLeaves(e, ph)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = replaceLeaves(e, ph)
		}
		return t
	case string:
		return ph
	default:
		return v
	}
}
