package main

# METADATA
# scope: document
# title: kustomization_prune_timeout
# description: >-
#   Every Flux Kustomization sets spec.prune explicitly (true or false: a
#   decision, not a default) and a spec.timeout (how long apply, health checks
#   and wait may take before the reconciliation fails).
# custom:
#   input: rendered
deny_kustomization_prune_timeout contains msg if {
	is_kind(flux_kustomize, "Kustomization")
	not "prune" in object.keys(object.get(input, "spec", {}))
	msg := "spec.prune is not set: say whether objects removed from git are deleted from the cluster"
}

deny_kustomization_prune_timeout contains msg if {
	is_kind(flux_kustomize, "Kustomization")
	object.get(input, ["spec", "timeout"], "") == ""
	msg := "spec.timeout is not set: a stuck apply or health check holds the Kustomization (and what depends on it) for the default"
}
