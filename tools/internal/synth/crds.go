package synth

import (
	"fmt"
	"strings"
)

// The platform chart stands for the operators real clusters install
// (Gateway API, Envoy Gateway, ECK, prometheus-operator): its
// CustomResourceDefinitions are as large as theirs — two served versions of
// a deeply nested schema with descriptions and CEL rules, about 300 kB of
// YAML each — and every application has an object of one of its kinds. A
// render of real clusters spends most of its time on objects like these:
// writing their YAML, compiling their schemas and CEL rules.
const (
	crdGroup = "platform.bench.example.com"
	// crdDepth is how deep objects nest in the schema; each object has
	// three object and three scalar fields.
	crdDepth = 4
)

// crdKind is the kind of CRD i.
func crdKind(i int) string { return fmt.Sprintf("Widget%02d", i) }

// platformChart returns the files of the platform chart shipping n CRDs.
func platformChart(n int) map[string]string {
	files := map[string]string{
		"Chart.yaml": `apiVersion: v2
name: platform
description: Synthetic operator chart whose CRDs are as large as real operators'.
type: application
version: 1.0.0
appVersion: "1.0.0"
`,
		"values.yaml": "serviceAccount:\n  name: platform-operator\n",
		"templates/serviceaccount.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Values.serviceAccount.name }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
`,
	}
	for i := range n {
		files[fmt.Sprintf("crds/%s.yaml", strings.ToLower(crdKind(i)))] = crd(i)
	}
	return files
}

// crd returns CRD i.
func crd(i int) string {
	kind := crdKind(i)
	plural := strings.ToLower(kind) + "s"
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[1]s.%[2]s
spec:
  group: %[2]s
  names: {kind: %[3]s, listKind: %[3]sList, plural: %[1]s, singular: %[4]s}
  scope: Namespaced
  versions:
`, plural, crdGroup, kind, strings.ToLower(kind))
	for _, v := range []string{"v1", "v1beta1"} {
		fmt.Fprintf(&b, `    - name: %s
      served: true
      storage: %t
      schema:
        openAPIV3Schema:
          type: object
          description: %s is a synthetic resource with a schema as large as real operators'.
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
`, v, v == "v1", kind)
		objectSchema(&b, "spec", crdDepth, 14)
	}
	return b.String()
}

// objectSchema writes the schema of an object field at indent: three object
// fields nesting depth-1 levels (scalars at the bottom) and three scalars,
// with CEL rules on the objects that nest further.
func objectSchema(b *strings.Builder, path string, depth, indent int) {
	pad := strings.Repeat(" ", indent)
	fmt.Fprintf(b, "%stype: object\n%sdescription: %s configures the part of the resource at %s; every field below is optional.\n", pad, pad, lastField(path), path)
	if depth >= 2 {
		fmt.Fprintf(b, `%[1]sx-kubernetes-validations:
%[1]s  - rule: "!has(self.field04) || self.field04.size() <= 253"
%[1]s    message: field04 of %[2]s must be at most 253 characters
%[1]s  - rule: "!has(self.field05) || self.field05 >= 0"
%[1]s    message: field05 of %[2]s must not be negative
`, pad, path)
	}
	fmt.Fprintf(b, "%sproperties:\n", pad)
	for j := range 6 {
		name := fmt.Sprintf("field%02d", j)
		fmt.Fprintf(b, "%s  %s:\n", pad, name)
		if depth > 0 && j < 3 {
			objectSchema(b, path+"."+name, depth-1, indent+4)
			continue
		}
		scalar(b, path+"."+name, j, indent+4)
	}
}

// scalar writes the schema of scalar field j: a string, an integer, a
// boolean or a set of strings, with the constraints real schemas carry.
func scalar(b *strings.Builder, path string, j, indent int) {
	pad := strings.Repeat(" ", indent)
	fmt.Fprintf(b, "%sdescription: %s of the resource, at %s.\n", pad, lastField(path), path)
	switch j % 4 {
	case 0:
		fmt.Fprintf(b, "%stype: string\n%smaxLength: 253\n%spattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'\n", pad, pad, pad)
	case 1:
		fmt.Fprintf(b, "%stype: integer\n%sformat: int32\n%sminimum: 0\n%smaximum: 65535\n", pad, pad, pad, pad)
	case 2:
		fmt.Fprintf(b, "%stype: boolean\n%sdefault: false\n", pad, pad)
	default:
		fmt.Fprintf(b, "%stype: array\n%smaxItems: 16\n%sx-kubernetes-list-type: set\n%sitems: {type: string, maxLength: 63}\n", pad, pad, pad, pad)
	}
}

func lastField(path string) string { return path[strings.LastIndex(path, ".")+1:] }

// widget returns the custom resource of application a (of CRD a%n).
func widget(a, n int) string {
	return fmt.Sprintf(`apiVersion: %s/v1
kind: %s
metadata:
  name: widget
spec:
  field00:
    field01:
      field04: app-%03d
      field05: %d
    field03: [blue, green]
  field04: widget-%03d
  field05: %d
`, crdGroup, crdKind(a%n), a, a%100, a, a)
}

// platformRelease is the HelmRelease of the platform chart, in the entry.
const platformRelease = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: platform
  namespace: flux-system
spec:
  interval: 1h
  url: https://charts.bench.invalid
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: platform
  namespace: flux-system
spec:
  interval: 1h
  chart:
    spec:
      chart: platform
      version: 1.x
      sourceRef:
        kind: HelmRepository
        name: platform
  install:
    crds: CreateReplace
  upgrade:
    crds: CreateReplace
`
