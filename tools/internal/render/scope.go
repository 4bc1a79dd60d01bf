package render

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/flux"
)

// Scope is the part of a render a check reviews: the Flux objects
// (Kustomizations and HelmReleases) whose inputs a change touched, and so
// the objects they render. A nil Scope is the whole render.
type Scope struct {
	units map[flux.Ref]bool
}

// Unit reports whether the Flux object ref is in scope.
func (s *Scope) Unit(ref flux.Ref) bool { return s == nil || s.units[ref] }

// Object reports whether o, rendered by its producer, is in scope.
func (s *Scope) Object(o Object) bool { return s.Unit(o.Origin.Producer) }

// Units is how many Flux objects are in scope (-1: all).
func (s *Scope) Units() int {
	if s == nil {
		return -1
	}
	return len(s.units)
}

// ChangedScope returns the Flux objects of c whose inputs one of files
// touches (repository paths, slash-separated, relative to the root: added,
// changed or deleted). A Flux object's inputs are what its render read:
// for a Kustomization what kustomize read, listed or tested (Unit.Inputs)
// and the files of the ConfigMaps and Secrets it substitutes from; for a
// HelmRelease the files of the ConfigMaps and Secrets of its valuesFrom,
// and its chart's directory when the chart comes from this checkout; for
// both the file that defines them and the file of their source object —
// and the Flux object that applies them being in scope, as what it
// applies may have changed with it.
// When a Flux object's inputs are not known — built from another source
// (a remote Git or OCI repository), whose changes no file of this
// checkout shows — the scope is nil, the whole render, and reason says
// why.
func ChangedScope(c *Cluster, files []string) (scope *Scope, reason string) {
	objects := c.Objects()
	fileOf := map[flux.Ref]string{}
	fluxObjects := map[flux.Ref]*unstructured.Unstructured{}
	for _, o := range objects {
		ref := flux.RefOf(o.Object)
		if _, seen := fileOf[ref]; !seen && o.Origin.Source == "" && o.Origin.Chart == "" {
			fileOf[ref] = o.Origin.File
		}
		if flux.IsFlux(o.Object) {
			fluxObjects[ref] = o.Object
		}
	}
	s := &Scope{units: map[flux.Ref]bool{}}
	for _, u := range c.Units {
		inputs, why := unitInputs(c, u, fluxObjects[u.Ref], fileOf)
		if why != "" {
			return nil, why
		}
		if slices.ContainsFunc(files, func(f string) bool { return touches(f, inputs) }) {
			s.units[u.Ref] = true
		}
	}
	// A Flux object is also what its parent made of it (patches,
	// substitution of its spec, a name prefix): when the parent is in
	// scope, so is every Flux object it applies, down the tree.
	parent := map[flux.Ref]flux.Ref{}
	for _, o := range objects {
		if flux.IsFlux(o.Object) {
			parent[flux.RefOf(o.Object)] = o.Origin.Producer
		}
	}
	for grew := true; grew; {
		grew = false
		for _, u := range c.Units {
			if p, ok := parent[u.Ref]; ok && p != u.Ref && s.units[p] && !s.units[u.Ref] {
				s.units[u.Ref], grew = true, true
			}
		}
	}
	return s, ""
}

// touches reports whether a change to file can change what was read as
// inputs: the file itself, or a directory holding it.
func touches(file string, inputs []string) bool {
	for _, in := range inputs {
		if in == "." || in == file || strings.HasPrefix(file, in+"/") {
			return true
		}
	}
	return false
}

// unitInputs lists what one Flux object's render read, or says why that
// is not known.
func unitInputs(c *Cluster, u *Unit, obj *unstructured.Unstructured, fileOf map[flux.Ref]string) ([]string, string) {
	inputs := slices.Clone(u.Inputs)
	if u.File != "" {
		inputs = append(inputs, u.File)
	}
	switch {
	case u.Skipped != "" || u.Failed:
		// Nothing rendered: the file that defines it is all there is.
		return inputs, ""
	case u.Ref.Kind == flux.KustomizationKind && u.Inputs == nil:
		return nil, fmt.Sprintf("%s is built from a source other than this checkout", u.Ref)
	case obj == nil:
		// The entry: its build is all it reads.
		return inputs, ""
	}
	ns := obj.GetNamespace()
	ref := func(kind, namespace, name string) flux.Ref {
		if namespace == "" {
			namespace = ns
		}
		return flux.RefTo(kind, namespace, name)
	}
	// fromObjects adds the files of the ConfigMaps and Secrets a list of
	// references (substituteFrom, valuesFrom) names.
	fromObjects := func(fields ...string) {
		list, _, _ := unstructured.NestedSlice(obj.Object, fields...)
		for _, item := range list {
			m, _ := item.(map[string]any)
			kind, _ := m["kind"].(string)
			name, _ := m["name"].(string)
			if f := fileOf[flux.RefTo(kind, ns, name)]; f != "" {
				inputs = append(inputs, f)
			}
		}
	}
	switch u.Ref.Kind {
	case flux.KustomizationKind:
		fromObjects("spec", "postBuild", "substituteFrom")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "kind")
		name, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "name")
		namespace, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "namespace")
		inputs = append(inputs, fileOf[ref(kind, namespace, name)])
	case flux.HelmReleaseKind:
		fromObjects("spec", "valuesFrom")
		if kind, _, _ := unstructured.NestedString(obj.Object, "spec", "chartRef", "kind"); kind != "" {
			name, _, _ := unstructured.NestedString(obj.Object, "spec", "chartRef", "name")
			namespace, _, _ := unstructured.NestedString(obj.Object, "spec", "chartRef", "namespace")
			// An OCI chart: its tag or digest is in the source object.
			inputs = append(inputs, fileOf[ref(kind, namespace, name)])
			break
		}
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "chart", "spec", "sourceRef", "kind")
		name, _, _ := unstructured.NestedString(obj.Object, "spec", "chart", "spec", "sourceRef", "name")
		namespace, _, _ := unstructured.NestedString(obj.Object, "spec", "chart", "spec", "sourceRef", "namespace")
		src := ref(kind, namespace, name)
		inputs = append(inputs, fileOf[src])
		if kind == flux.HelmRepositoryKind {
			// The chart is named and versioned in the HelmRelease, its
			// repository in the source object.
			break
		}
		if src != c.SelfSource {
			return nil, fmt.Sprintf("%s: its chart comes from %s, not this checkout", u.Ref, src)
		}
		chart, _, _ := unstructured.NestedString(obj.Object, "spec", "chart", "spec", "chart")
		inputs = append(inputs, path.Clean(chart))
		files, _, _ := unstructured.NestedStringSlice(obj.Object, "spec", "chart", "spec", "valuesFiles")
		for _, f := range files {
			inputs = append(inputs, path.Clean(f))
		}
	}
	return slices.DeleteFunc(inputs, func(s string) bool { return s == "" }), ""
}
