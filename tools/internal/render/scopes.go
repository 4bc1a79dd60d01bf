package render

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aks-gitops/platform/tools/internal/kustomize"
)

// scopes tells cluster-scoped kinds from namespaced ones: built-in kinds
// from kustomize's table of the Kubernetes API, custom kinds from the
// CustomResourceDefinitions in the render. Unknown kinds count as namespaced.
type scopes struct {
	crd map[[2]string]bool // group, kind -> cluster scoped
}

func newScopes(lists ...[]*unstructured.Unstructured) scopes {
	s := scopes{crd: map[[2]string]bool{}}
	for _, objs := range lists {
		for _, c := range crds(objs) {
			s.crd[[2]string{c.group, c.kind}] = c.clusterScoped
		}
	}
	return s
}

func (s scopes) clusterScoped(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	if cluster, ok := s.crd[[2]string{gvk.Group, gvk.Kind}]; ok {
		return cluster
	}
	if !builtinGroup(gvk.Group) {
		return false
	}
	return kustomize.ClusterScoped(u.GetAPIVersion(), gvk.Kind)
}

// builtinGroup reports whether a group is served by Kubernetes itself, which
// kustomize's table of the Kubernetes API knows.
func builtinGroup(g string) bool {
	return !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}
