package main

test_secret_plaintext_denied if {
	deny_secret_encrypted == {"plaintext Secret in git: data and stringData without SOPS metadata; encrypt the file with sops or read the values from the vault with an ExternalSecret"} with input as {
		"apiVersion": "v1",
		"kind": "Secret",
		"metadata": {"name": "db", "namespace": "crapi"},
		"data": {"password": "cGFzcw=="},
		"stringData": {"user": "admin"},
	}
}

test_secret_sops_passes if {
	count(deny_secret_encrypted) == 0 with input as {
		"apiVersion": "v1",
		"kind": "Secret",
		"metadata": {"name": "db", "namespace": "crapi"},
		"stringData": {"password": "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]"},
		"sops": {"age": [{"recipient": "age1example"}], "version": "3.9.0"},
	}
}

test_secret_without_values_passes if {
	count(deny_secret_encrypted) == 0 with input as {
		"apiVersion": "v1",
		"kind": "Secret",
		"metadata": {"name": "token", "namespace": "crapi"},
		"type": "kubernetes.io/service-account-token",
	}
}
