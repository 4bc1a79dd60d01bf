package main

namespace(labels) := {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": "crapi", "labels": labels},
}

test_namespace_enforce_passes if {
	count(deny_namespace_pod_security) == 0 with input as namespace({"pod-security.kubernetes.io/enforce": "baseline"})
	count(warn_namespace_pod_security) == 0 with input as namespace({"pod-security.kubernetes.io/enforce": "baseline"})
}

test_namespace_without_enforce_denied if {
	deny_namespace_pod_security == {"no pod-security.kubernetes.io/enforce label: the namespace gets the cluster default Pod Security level"} with input as namespace({"pod-security.kubernetes.io/warn": "restricted"})
	count(deny_namespace_pod_security) == 1 with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bare"}}
}

test_namespace_invalid_level_denied if {
	count(deny_namespace_pod_security) == 1 with input as namespace({"pod-security.kubernetes.io/enforce": "strict"})
}

test_namespace_privileged_warns if {
	count(deny_namespace_pod_security) == 0 with input as namespace({"pod-security.kubernetes.io/enforce": "privileged"})
	count(warn_namespace_pod_security) == 1 with input as namespace({"pod-security.kubernetes.io/enforce": "privileged"})
}

test_namespace_privileged_with_audit_passes if {
	count(warn_namespace_pod_security) == 0 with input as namespace({
		"pod-security.kubernetes.io/enforce": "privileged",
		"pod-security.kubernetes.io/audit": "baseline",
	})
}
