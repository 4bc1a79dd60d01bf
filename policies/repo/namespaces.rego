package main

pod_security_levels := {"privileged", "baseline", "restricted"}

pod_security_label(mode) := concat("", ["pod-security.kubernetes.io/", mode])

# METADATA
# scope: document
# title: namespace_pod_security
# description: >-
#   Every Namespace carries the Pod Security admission label
#   pod-security.kubernetes.io/enforce with a valid level. A namespace that
#   enforces privileged (admits anything) is a warning unless it also warns or
#   audits at a stricter level, so what it admits stays visible.
# custom:
#   input: rendered
deny_namespace_pod_security contains msg if {
	is_kind("", "Namespace")
	not object_labels[pod_security_label("enforce")]
	msg := sprintf("no %s label: the namespace gets the cluster default Pod Security level", [pod_security_label("enforce")])
}

deny_namespace_pod_security contains msg if {
	is_kind("", "Namespace")
	level := object_labels[pod_security_label("enforce")]
	not level in pod_security_levels
	msg := sprintf("%s: %q is not a Pod Security level (privileged, baseline, restricted)", [pod_security_label("enforce"), level])
}

warn_namespace_pod_security contains msg if {
	is_kind("", "Namespace")
	object_labels[pod_security_label("enforce")] == "privileged"
	not stricter_visibility
	msg := sprintf("enforces the privileged Pod Security level with no stricter %s or %s label: pods that break baseline go unnoticed", [pod_security_label("warn"), pod_security_label("audit")])
}

stricter_visibility if {
	some mode in ["warn", "audit"]
	object_labels[pod_security_label(mode)] in {"baseline", "restricted"}
}
