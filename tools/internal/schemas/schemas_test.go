package schemas_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/aks-gitops/platform/tools/internal/crdvalidate"
	"github.com/aks-gitops/platform/tools/internal/schemas"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

var update = flag.Bool("update", false, "regenerate the built-in schema bundle from the test API server")

// TestBuiltinMatchesAPIServer fetches every schema the real kube-apiserver
// of the test environment serves and compares it with the bundle the tool
// ships for that minor: the shipped schemas are exactly what that server
// says (-update regenerates them).
func TestBuiltinMatchesAPIServer(t *testing.T) {
	env := testenv.Start(t)
	got, err := schemas.Fetch(context.Background(), env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	var fresh bytes.Buffer
	if err := got.Write(&fresh); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("builtin", "kubernetes-"+got.Minor()+".json.gz")
	if *update {
		if err := os.WriteFile(path, fresh.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d kinds, %d schemas, %d bytes", path, len(got.Kinds), len(got.Schemas), fresh.Len())
		return
	}
	shipped, err := schemas.Builtin(got.Minor())
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := shipped.Write(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want.Bytes(), fresh.Bytes()) {
		t.Errorf("%s differs from what kube-apiserver %s serves; regenerate with -update", path, got.Kubernetes)
	}
}

// TestEveryKindCompiles converts every shipped kind's schema to CRD form
// and compiles it with the API server's validation code.
func TestEveryKindCompiles(t *testing.T) {
	for _, minor := range schemas.Shipped() {
		b, err := schemas.Builtin(minor)
		if err != nil {
			t.Fatal(err)
		}
		for key := range b.Kinds {
			parts := strings.SplitN(key, "/", 3)
			gvk := schema.GroupVersionKind{Group: parts[0], Version: parts[1], Kind: parts[2]}
			v, _ := crdvalidate.New(nil, nil)
			if err := v.WithSchemas(b).Compile(gvk); err != nil {
				t.Errorf("%s %s: %v", minor, key, err)
			}
		}
	}
}
