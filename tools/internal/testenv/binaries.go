package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// Version is the Kubernetes version of the kube-apiserver that
// scripts/testenv.sh builds (its KUBE_VERSION); the binaries are looked for
// in a directory named after it.
const Version = "v1.36.3"

// buildCommand is what a developer runs, from the repository root, to build
// the binaries when they are missing.
const buildCommand = "make testenv"

// binaryDir returns the directory holding kube-apiserver and etcd, looked for
// where scripts/testenv.sh puts them: KUBEBUILDER_ASSETS when it holds both
// (the envtest convention), else TESTENV_BIN or the per-version cache dir.
func binaryDir() (string, error) {
	var looked []string
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if hasBinaries(dir) {
			return dir, nil
		}
		looked = append(looked, dir+" (KUBEBUILDER_ASSETS)")
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	if hasBinaries(dir) {
		return dir, nil
	}
	looked = append(looked, dir)
	return "", fmt.Errorf("kube-apiserver and etcd not found in %v; to build them once (3 to 8 minutes on 2 cores), from the repository root run: %s", looked, buildCommand)
}

// cacheDir mirrors scripts/testenv.sh: ${TESTENV_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/testenv/<version>}.
// Not os.UserCacheDir: on macOS it differs from the script's choice.
func cacheDir() (string, error) {
	if dir := os.Getenv("TESTENV_BIN"); dir != "" {
		return dir, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the testenv cache dir: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "aks-gitops", "testenv", Version), nil
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
