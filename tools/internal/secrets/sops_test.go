package secrets

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/secrets/sopstest"
)

func TestDecrypt(t *testing.T) {
	key := sopstest.NewKey(t)
	other := sopstest.NewKey(t)
	enc := sopstest.Encrypt(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: apps}\nstringData: {password: s3cret}\n", key.Recipient)
	if strings.Contains(enc, "s3cret") {
		t.Fatal("encryption left the value in clear")
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(enc), &obj.Object); err != nil {
		t.Fatal(err)
	}
	if !IsSOPS(obj) {
		t.Fatal("IsSOPS = false for an encrypted object")
	}

	d, err := NewDecryptor([]string{other.File, key.File})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := d.Decrypt(obj)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(plain.Object, "stringData", "password"); got != "s3cret" || IsSOPS(plain) {
		t.Errorf("decrypted password = %q, sops metadata kept: %v", got, IsSOPS(plain))
	}

	wrong, err := NewDecryptor([]string{other.File})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Decrypt(obj); err == nil || !strings.Contains(err.Error(), "no given age identity matches") {
		t.Errorf("wrong key: err = %v", err)
	}

	tampered := obj.DeepCopy()
	_ = unstructured.SetNestedField(tampered.Object, "clear", "metadata", "name")
	if err := unstructured.SetNestedField(tampered.Object, map[string]any{"extra": "x"}, "stringData"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decrypt(tampered); err == nil {
		t.Errorf("tampered object decrypted without error")
	}
}
