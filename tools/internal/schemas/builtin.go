package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// The built-in kinds' schemas of each Kubernetes minor this tool ships,
// generated from a real kube-apiserver of that version:
// go test ./tools/internal/schemas -run TestBuiltin -update
//
//go:embed builtin/*.json.gz
var builtinFS embed.FS

const builtinDir = "builtin"

// builtinFile is the file holding minor's bundle.
func builtinFile(minor string) string {
	return builtinDir + "/kubernetes-" + minor + ".json.gz"
}

// Shipped lists the Kubernetes minors whose built-in schemas the tool
// carries, in order.
func Shipped() []string {
	entries, _ := fs.ReadDir(builtinFS, builtinDir)
	var out []string
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e.Name(), "kubernetes-"), ".json.gz")
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Builtin reads the built-in kinds' schemas of Kubernetes minor ("1.36");
// a minor the tool does not ship is a *NotShippedError. A run reads it once
// and passes it on.
func Builtin(minor string) (*Bundle, error) {
	data, err := builtinFS.ReadFile(builtinFile(minor))
	if err != nil {
		return nil, &NotShippedError{Minor: minor, Shipped: Shipped()}
	}
	b, err := Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("built-in schemas for Kubernetes %s: %w", minor, err)
	}
	return b, nil
}

// NotShippedError is a Kubernetes minor version whose built-in schemas the
// tool does not ship.
type NotShippedError struct {
	Minor   string
	Shipped []string
}

func (e *NotShippedError) Error() string {
	return fmt.Sprintf("no built-in schemas for Kubernetes %s: this tool ships %s", e.Minor, strings.Join(e.Shipped, ", "))
}
