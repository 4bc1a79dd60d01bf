package testenv

import (
	"context"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Client returns a controller-runtime client for the apiserver that knows
// the built-in types and CustomResourceDefinitions.
func (e *Env) Client(t testing.TB) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(e.RESTConfig(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("testenv: client: %v", err)
	}
	return c
}

// CreateCRD creates crd with c and waits until the server serves it.
func CreateCRD(t testing.TB, c client.Client, crd *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	CreateCRDs(t, c, crd)
}

// CreateCRDs creates the CRDs with c and waits until the server serves
// them all: Established, plus the two seconds during which kube-apiserver
// still refuses creates of a new kind (customresource_handler.go), waited
// once for all.
func CreateCRDs(t testing.TB, c client.Client, crds ...*apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	ctx := context.Background()
	for _, crd := range crds {
		if err := c.Create(ctx, crd); err != nil {
			t.Fatalf("create CRD %s: %v", crd.Name, err)
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s not Established: %v (conditions: %+v)", crd.Name, err, crd.Status.Conditions)
		}
	}
	time.Sleep(2 * time.Second)
}

// CreateUnstructuredCRDs is CreateCRDs for CRDs read from manifests.
func CreateUnstructuredCRDs(t testing.TB, c client.Client, objs ...*unstructured.Unstructured) {
	t.Helper()
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(objs))
	for _, u := range objs {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
			t.Fatalf("CRD %s: %v", u.GetName(), err)
		}
		crds = append(crds, crd)
	}
	CreateCRDs(t, c, crds...)
}
