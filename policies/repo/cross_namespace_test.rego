package main

test_same_namespace_refs_pass if {
	count(deny_cross_namespace_ref) == 0 with input as {
		"apiVersion": "helm.toolkit.fluxcd.io/v2",
		"kind": "HelmRelease",
		"metadata": {"name": "falco", "namespace": "falco"},
		"spec": {"chart": {"spec": {"chart": "falco", "sourceRef": {"kind": "HelmRepository", "name": "falcosecurity", "namespace": "falco"}}}},
	}
	count(deny_cross_namespace_ref) == 0 with input as {
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind": "Kustomization",
		"metadata": {"name": "apps", "namespace": "flux-system"},
		"spec": {"sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
	}
}

test_helmrelease_cross_namespace_denied if {
	deny_cross_namespace_ref == {"spec.chart.spec.sourceRef points to HelmRepository flux-system/falcosecurity in another namespace than falco (the AKS Flux extension rejects cross-namespace references)"} with input as {
		"apiVersion": "helm.toolkit.fluxcd.io/v2",
		"kind": "HelmRelease",
		"metadata": {"name": "falco", "namespace": "falco"},
		"spec": {"chart": {"spec": {"chart": "falco", "sourceRef": {"kind": "HelmRepository", "name": "falcosecurity", "namespace": "flux-system"}}}},
	}
}

test_chartref_cross_namespace_denied if {
	count(deny_cross_namespace_ref) == 1 with input as {
		"apiVersion": "helm.toolkit.fluxcd.io/v2",
		"kind": "HelmRelease",
		"metadata": {"name": "eg", "namespace": "envoy-gateway-system"},
		"spec": {"chartRef": {"kind": "OCIRepository", "name": "eg", "namespace": "flux-system"}},
	}
}

test_kustomization_cross_namespace_denied if {
	count(deny_cross_namespace_ref) == 1 with input as {
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind": "Kustomization",
		"metadata": {"name": "tenant", "namespace": "tenant-a"},
		"spec": {"sourceRef": {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}},
	}
}
