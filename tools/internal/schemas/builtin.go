package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
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

var (
	builtinOnce = map[string]func() (*Bundle, error){}
	builtinMu   sync.Mutex
)

// Builtin returns the built-in kinds' schemas of Kubernetes minor ("1.36"),
// read once; a minor the tool does not ship is an error that says which it
// does and how to get the schemas of any cluster.
func Builtin(minor string) (*Bundle, error) {
	builtinMu.Lock()
	load, ok := builtinOnce[minor]
	if !ok {
		load = sync.OnceValues(func() (*Bundle, error) {
			data, err := builtinFS.ReadFile(builtinFile(minor))
			if err != nil {
				return nil, &NotShippedError{Minor: minor, Shipped: Shipped()}
			}
			b, err := Read(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("built-in schemas for Kubernetes %s: %w", minor, err)
			}
			return b, nil
		})
		builtinOnce[minor] = load
	}
	builtinMu.Unlock()
	return load()
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
