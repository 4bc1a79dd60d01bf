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

// TestBundleID checks a bundle's identity: the same file gives the same ID,
// other content another, and a fetched bundle (no file) none.
func TestBundleID(t *testing.T) {
	b, err := schemas.Builtin("1.36")
	if err != nil {
		t.Fatal(err)
	}
	again, err := schemas.Builtin("1.36")
	if err != nil {
		t.Fatal(err)
	}
	if b.ID() == "" || b.ID() != again.ID() {
		t.Fatalf("IDs %q and %q of the same bundle", b.ID(), again.ID())
	}
	delete(b.Kinds, "/v1/ConfigMap")
	var other bytes.Buffer
	if err := b.Write(&other); err != nil {
		t.Fatal(err)
	}
	changed, err := schemas.Read(&other)
	if err != nil {
		t.Fatal(err)
	}
	if changed.ID() == "" || changed.ID() == again.ID() {
		t.Fatalf("a changed bundle has ID %q, the original %q", changed.ID(), again.ID())
	}
	if id := (&schemas.Bundle{}).ID(); id != "" {
		t.Fatalf("a bundle not read from a file has ID %q", id)
	}
}
