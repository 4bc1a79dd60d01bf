package flux

import (
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The controllers that apply what the Flux objects produce. Each name is
// also the controller's field manager and, in Namespace, its service
// account.
const (
	KustomizeController = "kustomize-controller"
	HelmController      = "helm-controller"
	// Namespace is where Flux runs (bootstrap and the AKS extension).
	Namespace = "flux-system"
)

// Metadata keys Flux reads on the objects it applies, as a label or an
// annotation, values compared case-insensitively (fluxcd/pkg/ssa's
// AnyInMetadata). Constants, spelt out: TestMetadataKeys holds them to the
// Flux API modules.
const (
	ReconcileKey = "kustomize.toolkit.fluxcd.io/reconcile" // disabled: never applied
	SSAKey       = "kustomize.toolkit.fluxcd.io/ssa"       // Ignore | IfNotPresent | Merge | Override
	ForceKey     = "kustomize.toolkit.fluxcd.io/force"     // enabled: recreated on an immutable change
	PruneKey     = "kustomize.toolkit.fluxcd.io/prune"     // disabled: never pruned
	// HelmDriftKey is helm-controller's per-object opt-out of drift
	// detection (disabled).
	HelmDriftKey = "helm.toolkit.fluxcd.io/driftDetection"
)

// HelmKeepKey is the annotation with which Helm keeps an object in the
// cluster when a release stops rendering it.
const HelmKeepKey = "helm.sh/resource-policy"

// Applier returns the controller that applies the output of a Flux object
// of kind producer (a Kustomization or a HelmRelease).
func Applier(producer string) string {
	if producer == HelmReleaseKind {
		return HelmController
	}
	return KustomizeController
}

// ServiceAccount is the user the applier of producer's output acts as.
func ServiceAccount(producer string) string {
	return "system:serviceaccount:" + Namespace + ":" + Applier(producer)
}

// OwnerGroup is the group of the owner labels (GROUP/name, GROUP/namespace)
// the applier of producer's output sets on every object.
func OwnerGroup(producer string) string {
	if producer == HelmReleaseKind {
		return helmv2.GroupVersion.Group
	}
	return kustomizev1.GroupVersion.Group
}

// OwnerLabels are the labels with which the applier of producer's output
// marks every object it applies.
func OwnerLabels(producer, namespace, name string) map[string]string {
	g := OwnerGroup(producer)
	return map[string]string{g + "/name": name, g + "/namespace": namespace}
}

// MetadataIs reports whether any of objs (nil ones skipped) has key set to
// value as a label or an annotation, case-insensitively, as Flux reads it.
func MetadataIs(key, value string, objs ...*unstructured.Unstructured) bool {
	for _, u := range objs {
		if u != nil && ssautil.AnyInMetadata(u, map[string]string{key: value}) {
			return true
		}
	}
	return false
}

// KeptBy returns the metadata key that keeps u in the cluster once the
// Flux object of kind producer stops applying it, or "" when it is deleted
// (for a Kustomization, if it prunes). Helm reads only its annotation, and
// only the exact value, when an upgrade drops an object (helm v4
// pkg/kube Client.Update); kustomize-controller reads its prune key as
// AnyInMetadata does. Neither reads the other's.
func KeptBy(producer string, u *unstructured.Unstructured) string {
	if producer == HelmReleaseKind {
		if u.GetAnnotations()[HelmKeepKey] == "keep" {
			return HelmKeepKey
		}
		return ""
	}
	if MetadataIs(PruneKey, "disabled", u) {
		return PruneKey
	}
	return ""
}
