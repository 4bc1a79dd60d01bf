package testenv

import (
	"fmt"
	"os"
	"os/exec"
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
func cacheDir() (string, error) {
	return cachePath("TESTENV_BIN", "testenv", Version)
}

// cachePath is $override when set, else elems under the project's cache
// directory, ${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops, as the scripts
// choose it. Not os.UserCacheDir: on macOS it differs from the scripts'.
func cachePath(override string, elems ...string) (string, error) {
	if dir := os.Getenv(override); dir != "" {
		return dir, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the cache dir: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(append([]string{base, "aks-gitops"}, elems...)...), nil
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if !executable(filepath.Join(dir, name)) {
			return false
		}
	}
	return true
}

// executable reports whether path is an executable file.
func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Tool returns the path of a tool scripts/install-tools.sh builds (gator,
// amtool, promtool, ...): in ${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bin},
// else on PATH; an error names the command that builds it.
func Tool(name string) (string, error) {
	dir, err := cachePath("TOOLS_BIN", "bin")
	if err != nil {
		return "", err
	}
	if p := filepath.Join(dir, name); executable(p) {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found in %s or PATH; to build it once, from the repository root run: make tools", name, dir)
}
