package secrets

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Decryptor decrypts SOPS-encrypted objects with the age identities a user
// provided, the way kustomize-controller does for a Kustomization with
// spec.decryption: the data key from the age recipients, every value with
// it, and the MAC checked.
type Decryptor struct {
	ids sopsage.ParsedIdentities
}

// NewDecryptor reads age identity files (the format of `age-keygen`).
func NewDecryptor(keyFiles []string) (*Decryptor, error) {
	d := &Decryptor{}
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("age key: %w", err)
		}
		if err := d.ids.Import(string(data)); err != nil {
			return nil, fmt.Errorf("age key %s: %w", f, err)
		}
	}
	if len(d.ids) == 0 {
		return nil, errors.New("no age identity given")
	}
	return d, nil
}

// Decrypt returns the object with its values decrypted.
func (d *Decryptor) Decrypt(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	data, err := yaml.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	store := sopsyaml.NewStore(&config.YAMLStoreConfig{})
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("sops: %w", err)
	}
	key, err := d.dataKey(tree.Metadata)
	if err != nil {
		return nil, err
	}
	cipher := aes.NewCipher()
	mac, err := tree.Decrypt(key, cipher)
	if err != nil {
		return nil, fmt.Errorf("sops: decrypt: %w", err)
	}
	fileMAC, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || fileMAC != mac {
		return nil, errors.New("sops: MAC mismatch: the file was changed after encryption")
	}
	plain, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("sops: %w", err)
	}
	out := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(plain, &out.Object); err != nil {
		return nil, fmt.Errorf("sops: decrypted object: %w", err)
	}
	return out, nil
}

// dataKey recovers the data key from the age recipients of the only key
// group (Shamir-split keys are not supported).
func (d *Decryptor) dataKey(md sops.Metadata) ([]byte, error) {
	if len(md.KeyGroups) != 1 {
		return nil, fmt.Errorf("sops: %d key groups: only one is supported", len(md.KeyGroups))
	}
	var recipients []string
	for _, k := range md.KeyGroups[0] {
		mk, ok := k.(*sopsage.MasterKey)
		if !ok {
			continue
		}
		recipients = append(recipients, mk.Recipient)
		d.ids.ApplyToMasterKey(mk)
		if key, err := mk.Decrypt(); err == nil {
			return key, nil
		}
	}
	if len(recipients) == 0 {
		return nil, errors.New("sops: no age recipient: only age keys are supported")
	}
	return nil, fmt.Errorf("sops: no given age identity matches the recipients %s", strings.Join(recipients, ", "))
}
