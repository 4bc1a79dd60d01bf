package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Bounds on one repository file, checked before kustomize parses it. A pull
// request from a fork chooses the files: kyaml expands every alias into a
// copy of its anchor (DeAnchor) with no limit, so a few KB of nested
// aliases ("billion laughs") grow without bound, and nothing interrupts
// it. Real manifests stay far inside these bounds (the largest CRD bundles
// are a few MB with a few hundred documents, nest a few dozen levels and
// use aliases sparingly).
const (
	// maxFileBytes bounds any file a build reads.
	maxFileBytes = 16 << 20
	// maxNodes bounds the YAML nodes of one file: time and memory grow with
	// them (200,000 short strings in a list: about 5 s and 0.5 GB). One
	// large CRD holds a few tens of thousands; a bundle of many may need
	// splitting.
	maxNodes = 200_000
	// maxDocuments bounds the YAML documents of one file: kustomize adds
	// resources in time that grows with the square of their number (1,000
	// in one build: 2 s; 3,000: 19 s).
	maxDocuments = 1_000
	// maxKeys bounds the keys of one mapping: kyaml's DeAnchor merges them
	// in time that grows with the square of their number (10,000: 4 s).
	maxKeys = 5_000
	// maxAliasNodes bounds the nodes aliases add to a file when expanded.
	maxAliasNodes = 100_000
	// maxDepth bounds nesting: kustomize's walks take time that grows with
	// the square of it (2,000 levels: half a minute). The deepest real
	// manifests, CRD schemas, nest a few dozen levels.
	maxDepth = 200
)

// ErrHostileFile marks a file refused by the bounds above.
var ErrHostileFile = errors.New("file refused")

// hostileError names the refused file and why.
type hostileError struct {
	file, why string
}

func (e *hostileError) Error() string { return e.file + ": " + e.why }
func (e *hostileError) Is(target error) bool {
	return target == ErrHostileFile
}

// isYAMLFile says whether kustomize parses a file of this name as YAML
// (resources, patches, kustomization files); other files it reads are
// generator data, bounded only in size.
func isYAMLFile(name string) bool {
	switch filepath.Ext(name) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// checkFile applies the bounds to a file's contents; name is what the
// error calls it.
func checkFile(name string, data []byte) error {
	if len(data) > maxFileBytes {
		return &hostileError{name, fmt.Sprintf("larger than the %d MiB a manifest file may hold", maxFileBytes>>20)}
	}
	if !isYAMLFile(name) {
		return nil
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return &hostileError{name, "binary content, not YAML text"}
	}
	// A document separator is "---" at the start of a line; counting them
	// is a bound, not a parse.
	if n := bytes.Count(data, []byte("\n---")) + 1; n > maxDocuments {
		return &hostileError{name, fmt.Sprintf("%d YAML documents, more than the %d a manifest file may hold", n, maxDocuments)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var added, nodes int64
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return nil // not YAML: kustomize reports it in its own words
		}
		m := measure{seen: map[*yaml.Node]shape{}}
		sh := m.shape(&doc)
		if nodes += m.nodes; nodes > maxNodes {
			return &hostileError{name, fmt.Sprintf("more than %d YAML nodes, the most a manifest file may hold (split it)", maxNodes)}
		}
		if m.keys > maxKeys {
			return &hostileError{name, fmt.Sprintf("a YAML mapping with more than %d keys", maxKeys)}
		}
		if sh.depth > maxDepth {
			return &hostileError{name, fmt.Sprintf("YAML nested more than %d levels deep", maxDepth)}
		}
		if added += sh.size - m.nodes; added > maxAliasNodes {
			return &hostileError{name, fmt.Sprintf("YAML aliases expand to more than %d nodes (an alias bomb)", maxAliasNodes)}
		}
	}
}

// shape is the size and depth of a node with every alias replaced by a
// copy of its anchor, as kyaml's DeAnchor makes it.
type shape struct{ size, depth int64 }

// measure computes shapes without making the copies.
type measure struct {
	seen  map[*yaml.Node]shape
	nodes int64 // nodes as written
	keys  int   // most keys of one mapping
}

// limit caps sizes so that the sums cannot overflow.
const limit = int64(1) << 40

func (m *measure) shape(n *yaml.Node) shape {
	if s, ok := m.seen[n]; ok {
		return s
	}
	m.seen[n] = shape{limit, limit} // an alias into a node being measured is a cycle: refuse
	m.nodes++
	s := shape{size: 1}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s = m.shape(n.Alias)
	}
	for _, ch := range n.Content {
		c := m.shape(ch)
		s.size = min(s.size+c.size, limit)
		s.depth = max(s.depth, c.depth)
	}
	if len(n.Content) > 0 {
		s.depth++
	}
	if n.Kind == yaml.MappingNode {
		m.keys = max(m.keys, len(n.Content)/2)
	}
	m.seen[n] = s
	return s
}

// checkTree applies the bounds to the files fluxcd/pkg/kustomize's
// generator parses when dir has no kustomization file: every YAML file
// below it, except in directories that have one of their own.
func checkTree(root, dir string) error {
	if hasKustomization(dir) {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && hasKustomization(p) {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		return checkPath(root, p)
	})
}

// checkPath reads a file (at most one byte past the size bound) and checks it.
func checkPath(root, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return err
	}
	return checkFile(relName(root, p), data)
}

func relName(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil && root != "" {
		return filepath.ToSlash(rel)
	}
	return p
}

func hasKustomization(dir string) bool {
	return findKustomization(filesys.MakeFsOnDisk(), dir) != ""
}
