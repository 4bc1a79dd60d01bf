// Package apilifecycle tells whether a built-in API version is deprecated or
// no longer served in a target Kubernetes version, from the lifecycle the
// Kubernetes API types declare about themselves (the prerelease-lifecycle
// methods generated into k8s.io/api), not from a hand-written list.
package apilifecycle

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Version is a Kubernetes major.minor.
type Version struct{ Major, Minor int }

// Parse reads "1.36" (a patch, "1.36.3", is ignored).
func Parse(s string) (Version, error) {
	var v Version
	var patch int
	if n, _ := fmt.Sscanf(s, "%d.%d.%d", &v.Major, &v.Minor, &patch); n < 2 {
		return Version{}, fmt.Errorf("kube version %q: want MAJOR.MINOR", s)
	}
	return v, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func (v Version) atLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Severity of a lifecycle finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding says what is wrong with an API version in the target version.
type Finding struct {
	Severity Severity
	Message  string
}

type (
	deprecated  interface{ APILifecycleDeprecated() (int, int) }
	removed     interface{ APILifecycleRemoved() (int, int) }
	replacement interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
)

// Check returns a finding for gvk in Kubernetes target, if any. Kinds of
// groups Kubernetes does not serve itself (custom resources) are not its
// business.
func Check(gvk schema.GroupVersionKind, target Version) *Finding {
	if !scheme.Scheme.IsGroupRegistered(gvk.Group) {
		return nil
	}
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		for _, gv := range scheme.Scheme.PrioritizedVersionsForGroup(gvk.Group) {
			if scheme.Scheme.Recognizes(gv.WithKind(gvk.Kind)) {
				return &Finding{Severity: Error, Message: fmt.Sprintf("%s %s is not served by Kubernetes %s: use %s", gvk.GroupVersion(), gvk.Kind, target, gv)}
			}
		}
		return &Finding{Severity: Error, Message: fmt.Sprintf("%s has no kind %s in Kubernetes %s", gvk.GroupVersion(), gvk.Kind, target)}
	}
	use := ""
	if r, ok := obj.(replacement); ok {
		if repl := r.APILifecycleReplacement(); !repl.Empty() {
			use = fmt.Sprintf(": use %s %s", repl.GroupVersion(), repl.Kind)
		}
	}
	if r, ok := obj.(removed); ok {
		if major, minor := r.APILifecycleRemoved(); major > 0 && target.atLeast(major, minor) {
			return &Finding{Severity: Error, Message: fmt.Sprintf("%s %s was removed in Kubernetes %d.%d%s", gvk.GroupVersion(), gvk.Kind, major, minor, use)}
		}
	}
	if d, ok := obj.(deprecated); ok {
		if major, minor := d.APILifecycleDeprecated(); major > 0 && target.atLeast(major, minor) {
			msg := fmt.Sprintf("%s %s is deprecated since Kubernetes %d.%d", gvk.GroupVersion(), gvk.Kind, major, minor)
			if r, ok := obj.(removed); ok {
				if rm, rn := r.APILifecycleRemoved(); rm > 0 {
					msg += fmt.Sprintf(" and removed in %d.%d", rm, rn)
				}
			}
			return &Finding{Severity: Warning, Message: msg + use}
		}
	}
	return nil
}
