package object

import (
	"cmp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ID identifies an object in a cluster, whatever its API version: like
// fluxcd/pkg/ssa's ObjMetadata, the group, kind, namespace and name. It is
// the one identity of the tool: Flux references, findings, diff changes
// and live drift results carry it.
type ID struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// IDOf returns an object's identity.
func IDOf(u *unstructured.Unstructured) ID {
	return ID{Group: u.GroupVersionKind().Group, Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// String names the object for people: Kind/namespace/name, Kind/name when
// cluster scoped, Kind alone without a name. The kind says the group for
// the kinds the tool names this way; Qualified says it always.
func (id ID) String() string {
	return id.format(id.Kind)
}

// Qualified is String with the group of kinds outside the core group:
// Deployment.apps/web/x, as a diff of any kinds needs.
func (id ID) Qualified() string {
	if id.Group == "" {
		return id.String()
	}
	return id.format(id.Kind + "." + id.Group)
}

func (id ID) format(kind string) string {
	switch {
	case id.Name == "" && id.Namespace == "":
		return kind
	case id.Namespace == "":
		return kind + "/" + id.Name
	}
	return kind + "/" + id.Namespace + "/" + id.Name
}

// Compare orders identities by namespace, kind, name and group: the order
// of the tool's every list of objects, findings and changes.
func Compare(a, b ID) int {
	return cmp.Or(
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Group, b.Group),
	)
}
