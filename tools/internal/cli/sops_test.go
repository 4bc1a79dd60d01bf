package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aks-gitops/platform/tools/internal/secrets/sopstest"
)

// TestSOPSDecryption renders a Kustomization with spec.decryption whose
// Secret is SOPS-encrypted for an age key: decrypted only when the key is
// given, its value printed only with --show-secrets and never kept in the
// cache, a wrong key an error.
func TestSOPSDecryption(t *testing.T) {
	key, other := sopstest.NewKey(t), sopstest.NewKey(t)
	repo := t.TempDir()
	files := map[string]string{
		"clusters/test/ks.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: vars, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./vars
  sourceRef: {kind: GitRepository, name: flux-system}
  decryption: {provider: sops}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./app
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substituteFrom: [{kind: Secret, name: db-vars}]
`,
		"vars/secret.yaml": sopstest.Encrypt(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: db-vars, namespace: flux-system}\nstringData: {DB_PASSWORD: decrypted-value}\n", key.Recipient),
		"app/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {password: '${DB_PASSWORD}'}\n",
	}
	writeTree(t, repo, files)
	entry := filepath.Join(repo, "clusters", "test")
	tests := []struct {
		name               string
		flags              []string
		code               int
		want, notWant, err string
	}{
		{name: "key and show-secrets", flags: []string{"--sops-age-key", key.File, "--show-secrets"}, want: "password: decrypted-value"},
		{name: "key only", flags: []string{"--sops-age-key", key.File}, want: "password: placeholder-secret-flux-system-db-vars-DB_PASSWORD", notWant: "decrypted-value"},
		{name: "no key", want: "password: placeholder-secret-flux-system-db-vars-DB_PASSWORD", err: "Secret flux-system/db-vars is SOPS-encrypted: placeholder values used"},
		{name: "wrong key", flags: []string{"--sops-age-key", other.File}, code: ExitError, err: "decrypt Secret db-vars (vars/secret.yaml): sops: no given age identity matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			args := append([]string{"render", "--repo", repo, "--cache-dir", cache}, tt.flags...)
			code, stdout, stderr := run(append(args, entry)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.want) || (tt.notWant != "" && strings.Contains(stdout+stderr, tt.notWant)) {
				t.Errorf("stdout lacks %q or shows %q:\n%s", tt.want, tt.notWant, stdout)
			}
			if !strings.Contains(stderr, tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, stderr)
			}
			// Nothing decrypted is kept: not in the render cache, not in
			// the YAML kept by content.
			err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err == nil && bytes.Contains(data, []byte("decrypted-value")) {
					t.Errorf("the cache keeps a decrypted value: %s", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
