package main

# METADATA
# scope: document
# title: cross_namespace_ref
# description: >-
#   No cross-namespace source references: a HelmRelease's
#   spec.chart.spec.sourceRef and spec.chartRef, and a Kustomization's
#   spec.sourceRef, name no namespace other than the object's own. The AKS
#   Flux extension enforces multi-tenancy (no cross-namespace refs) by default,
#   so such a reference fails on the cluster. An object without a namespace is
#   not judged (it is applied where its Kustomization puts it).
# custom:
#   input: rendered
deny_cross_namespace_ref contains msg if {
	some [field, ref] in source_refs
	ref_ns := object.get(ref, "namespace", "")
	ref_ns != ""
	object_namespace != ""
	ref_ns != object_namespace
	msg := sprintf("%s points to %s %s/%s in another namespace than %s (the AKS Flux extension rejects cross-namespace references)", [field, object.get(ref, "kind", ""), ref_ns, object.get(ref, "name", ""), object_namespace])
}

source_refs contains ["spec.chart.spec.sourceRef", ref] if {
	is_kind(flux_helm, "HelmRelease")
	ref := input.spec.chart.spec.sourceRef
}

source_refs contains ["spec.chartRef", ref] if {
	is_kind(flux_helm, "HelmRelease")
	ref := input.spec.chartRef
}

source_refs contains ["spec.sourceRef", ref] if {
	is_kind(flux_kustomize, "Kustomization")
	ref := input.spec.sourceRef
}
