package kustomize

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// containers builds a Deployment with a strategic-merge patch on one of its
// two containers and returns the container count: 2 when the built-in
// schema's merge keys are in use, 1 when the patch replaced the list.
func containers(t *testing.T) int {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	files := map[string]string{
		"/app/kustomization.yaml": "resources: [deploy.yaml]\npatches:\n- path: patch.yaml\n",
		"/app/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a:1}
      - {name: b, image: b:1}
`,
		"/app/patch.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: b, image: b:2}
`,
	}
	for p, c := range files {
		if err := fs.WriteFile(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Run(t.Context(), fs, "/app")
	if err != nil {
		t.Fatal(err)
	}
	list, err := m.Resources()[0].GetSlice("spec.template.spec.containers")
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestRunIsolatesSchemaChanges checks that a build declaring its own OpenAPI
// schema does not leak it into the next build, while builds that do not
// keep the parsed built-in schema.
func TestRunIsolatesSchemaChanges(t *testing.T) {
	if n := containers(t); n != 2 {
		t.Fatalf("before: %d containers, want 2 (merged by name)", n)
	}
	fs := filesys.MakeFsInMemory()
	_ = fs.WriteFile("/custom/kustomization.yaml", []byte("openapi:\n  path: schema.json\nresources: [cm.yaml]\n"))
	_ = fs.WriteFile("/custom/schema.json", []byte(`{"definitions": {}}`))
	_ = fs.WriteFile("/custom/cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	if _, err := Run(t.Context(), fs, "/custom"); err != nil {
		t.Fatal(err)
	}
	if v := openapi.GetSchemaVersion(); v != defaultSchema {
		t.Errorf("schema after a custom-schema build: %q, want %q", v, defaultSchema)
	}
	if n := containers(t); n != 2 {
		t.Errorf("after a custom-schema build: %d containers, want 2: the custom schema leaked", n)
	}
}
