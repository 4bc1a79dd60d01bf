package main

# METADATA
# scope: document
# title: secret_encrypted
# description: >-
#   No plaintext Secret in git: a Secret with data or stringData in a
#   repository file carries SOPS metadata (a top-level sops: key), i.e. it is
#   encrypted, or it is not committed at all (ExternalSecret from the vault).
#   Checked on the files as committed, not on the render: Flux decrypts SOPS
#   Secrets before applying them, so the render cannot tell.
# custom:
#   input: git
deny_secret_encrypted contains msg if {
	is_kind("", "Secret")
	not "sops" in object.keys(input)
	fields := [field | some field in ["data", "stringData"]; count(object.get(input, field, {})) > 0]
	count(fields) > 0
	msg := sprintf("plaintext Secret in git: %s without SOPS metadata; encrypt the file with sops or read the values from the vault with an ExternalSecret", [concat(" and ", fields)])
}
