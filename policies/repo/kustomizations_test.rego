package main

kustomization(spec) := {
	"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
	"kind": "Kustomization",
	"metadata": {"name": "apps", "namespace": "flux-system"},
	"spec": object.union({"interval": "10m", "path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}, spec),
}

test_kustomization_prune_timeout_passes if {
	count(deny_kustomization_prune_timeout) == 0 with input as kustomization({"prune": true, "timeout": "5m"})
	count(deny_kustomization_prune_timeout) == 0 with input as kustomization({"prune": false, "timeout": "5m"})
}

test_kustomization_without_prune_denied if {
	deny_kustomization_prune_timeout == {"spec.prune is not set: say whether objects removed from git are deleted from the cluster"} with input as kustomization({"timeout": "5m"})
}

test_kustomization_without_timeout_denied if {
	count(deny_kustomization_prune_timeout) == 1 with input as kustomization({"prune": true})
	count(deny_kustomization_prune_timeout) == 2 with input as kustomization({})
}

test_kustomize_config_not_judged if {
	count(deny_kustomization_prune_timeout) == 0 with input as {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
}
