package testenv

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CreateNamespaces creates each named namespace that does not exist yet, as
// a cluster has them before an entry applies into namespaces it does not
// create.
func CreateNamespaces(t testing.TB, c client.Client, names ...string) {
	t.Helper()
	for _, name := range names {
		err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("namespace %s: %v", name, err)
		}
	}
}

// NamespacesOf returns, in order of first use, the namespaces objs are in
// that objs do not create themselves.
func NamespacesOf(objs []*unstructured.Unstructured) []string {
	seen := map[string]bool{}
	for _, u := range objs {
		if u.GetAPIVersion() == "v1" && u.GetKind() == "Namespace" {
			seen[u.GetName()] = true
		}
	}
	var out []string
	for _, u := range objs {
		if ns := u.GetNamespace(); ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}
