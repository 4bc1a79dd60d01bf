package kustomize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// krustyLock serialises every krusty run and every use of kyaml's
// process-wide OpenAPI schema: krusty is not safe for concurrent builds. It
// is a channel so that a build waiting for it can be cancelled.
var (
	krustyLock = make(chan struct{}, 1)
	// schemaDirty says the global schema must be reset and the built-in
	// one loaded before the next build.
	schemaDirty = true
	// defaultSchema is the schema version kyaml reports when nothing
	// changed it.
	defaultSchema = openapi.GetSchemaVersion()
)

// Run builds the kustomization in dir on fs as fluxcd/pkg/kustomize.Build
// does — no load restrictions, built-in plugins only, a panic turned into an
// error — and leaves every build as isolated from the others as that does.
// fluxcd resets and re-parses kyaml's built-in OpenAPI schema around every
// build (about 80 ms); Run keeps it between builds and resets it only after
// a build that changed it (a kustomization with `openapi` or `crds`).
func Run(ctx context.Context, fs filesys.FileSystem, dir string) (resmap.ResMap, error) {
	m, _, err := runRecorded(ctx, fs, "", dir)
	return m, err
}

// runRecorded is Run that also returns every filesystem observation the
// build made, so that a cached result can be checked for staleness. krusty
// takes no context: when ctx ends first, runRecorded returns at once and
// the build finishes alone, releasing the lock (the process is exiting).
func runRecorded(ctx context.Context, fs filesys.FileSystem, root, dir string) (resmap.ResMap, []dep, error) {
	select {
	case krustyLock <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
	type result struct {
		m    resmap.ResMap
		deps []dep
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-krustyLock }()
		var r result
		r.m, r.deps, r.err = build(fs, root, dir)
		done <- r
	}()
	select {
	case r := <-done:
		return r.m, r.deps, r.err
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
}

// build runs krusty; the caller holds krustyLock.
func build(fs filesys.FileSystem, root, dir string) (m resmap.ResMap, deps []dep, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered from kustomize build panic: %v", r)
			schemaDirty = true
		}
	}()
	if schemaDirty {
		openapi.ResetOpenAPI()
		_ = openapi.Schema()
		schemaDirty = false
	}
	rec := &recordFS{FileSystem: fs, root: root, seen: map[dep]bool{}}
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err = k.Run(rec, dir)
	if rec.changesSchema || openapi.GetSchemaVersion() != defaultSchema {
		openapi.ResetOpenAPI()
		schemaDirty = true
	}
	return m, rec.deps, err
}

// ClusterScoped reports whether kyaml's schema knows the kind as cluster
// scoped, under the same lock as the builds that reset that schema.
func ClusterScoped(apiVersion, kind string) bool {
	krustyLock <- struct{}{}
	defer func() { <-krustyLock }()
	return openapi.IsCertainlyClusterScoped(kyaml.TypeMeta{APIVersion: apiVersion, Kind: kind})
}

// dep is one observation of the filesystem: an operation on a path and what
// it returned (a hash for contents and listings).
type dep struct {
	Op     string `json:"op"`
	Path   string `json:"path"`
	Result string `json:"result"`
}

// Observations remembers, for the builds of one render, what checking
// their cache entries observed: the files do not change while a render
// runs, and many Kustomizations read the same bases, so each path is
// read and digested once. It also knows which paths are no symlinks
// (see plainFS).
type Observations struct{ seen, noLinks sync.Map }

// noLinkPaths is the render's memory of which paths are no symlinks, or
// nil without Observations.
func (o *Observations) noLinkPaths() *sync.Map {
	if o == nil {
		return nil
	}
	return &o.noLinks
}

// stale reports whether any observation, made again under root, now
// returns something else. The kustomization file a build generated (in
// memory, its own) is observed afresh.
func (o *Observations) stale(fs filesys.FileSystem, root, kfile string, deps []dep) bool {
	for _, d := range deps {
		var got string
		if o == nil || d.Path == kfile {
			got = observe(fs, root, d.Op, d.Path)
		} else {
			key := d.Op + "\x00" + d.Path
			if v, ok := o.seen.Load(key); ok {
				got = v.(string)
			} else {
				got = observe(fs, root, d.Op, d.Path)
				o.seen.Store(key, got)
			}
		}
		if got != d.Result {
			return true
		}
	}
	return false
}

// observe performs op on path and returns a digest of the outcome, with
// root cut from the paths it returns so that another checkout of the same
// content observes the same.
func observe(fs filesys.FileSystem, root, op, path string) string {
	digestOf := func(data []byte, err error) string {
		if root != "" {
			data = bytes.ReplaceAll(data, []byte(root), []byte("$ROOT"))
		}
		return digestOf(data, err)
	}
	switch op {
	case "read":
		data, err := fs.ReadFile(path)
		return digestOf(data, err)
	case "exists":
		return strconv.FormatBool(fs.Exists(path))
	case "isdir":
		return strconv.FormatBool(fs.IsDir(path))
	case "readdir":
		names, err := fs.ReadDir(path)
		return digestOf([]byte(strings.Join(names, "\n")), err)
	case "glob":
		matches, err := fs.Glob(path)
		return digestOf([]byte(strings.Join(matches, "\n")), err)
	case "walk":
		var seen []string
		err := fs.Walk(path, func(p string, info os.FileInfo, err error) error {
			if err == nil {
				seen = append(seen, fmt.Sprintf("%s|%t", p, info.IsDir()))
			}
			return nil
		})
		return digestOf([]byte(strings.Join(seen, "\n")), err)
	case "abs":
		d, f, err := fs.CleanedAbs(path)
		return digestOf([]byte(string(d)+"|"+f), err)
	}
	return "unknown op " + op
}

func digestOf(data []byte, err error) string {
	if err != nil {
		return "error"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// recordFS records what krusty observes of the filesystem, and notes
// whether any kustomization file it reads declares `openapi` or `crds`, the
// two fields that change kyaml's global schema.
type recordFS struct {
	filesys.FileSystem
	root          string
	deps          []dep
	seen          map[dep]bool
	changesSchema bool
}

func (r *recordFS) record(op, path string) {
	d := dep{Op: op, Path: path, Result: observe(r.FileSystem, r.root, op, path)}
	if !r.seen[d] {
		r.seen[d] = true
		r.deps = append(r.deps, d)
	}
}

func (r *recordFS) ReadFile(path string) ([]byte, error) {
	r.record("read", path)
	if err := r.checkSize(path); err != nil {
		return nil, err
	}
	data, err := r.FileSystem.ReadFile(path)
	if err == nil {
		if err := checkFile(relName(r.root, path), data); err != nil {
			return nil, err
		}
	}
	if err == nil && slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		var top map[string]any
		if yaml.Unmarshal(data, &top) != nil {
			r.changesSchema = true // let krusty report it; assume the worst
		} else if _, ok := top["openapi"]; ok {
			r.changesSchema = true
		} else if _, ok := top["crds"]; ok {
			r.changesSchema = true
		}
	}
	return data, err
}

func (r *recordFS) Open(path string) (filesys.File, error) {
	r.record("read", path)
	if _, err := r.ReadFile(path); err != nil {
		return nil, err
	}
	return r.FileSystem.Open(path)
}

// checkSize refuses a file over the size bound before it is read whole.
func (r *recordFS) checkSize(path string) error {
	f, err := r.FileSystem.Open(path)
	if err != nil {
		return nil // ReadFile reports it
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxFileBytes {
		return checkFile(relName(r.root, path), make([]byte, maxFileBytes+1))
	}
	return nil
}

func (r *recordFS) Exists(path string) bool {
	r.record("exists", path)
	return r.FileSystem.Exists(path)
}

func (r *recordFS) IsDir(path string) bool {
	r.record("isdir", path)
	return r.FileSystem.IsDir(path)
}

func (r *recordFS) ReadDir(path string) ([]string, error) {
	r.record("readdir", path)
	return r.FileSystem.ReadDir(path)
}

func (r *recordFS) Glob(pattern string) ([]string, error) {
	r.record("glob", pattern)
	return r.FileSystem.Glob(pattern)
}

func (r *recordFS) Walk(path string, fn filepath.WalkFunc) error {
	r.record("walk", path)
	return r.FileSystem.Walk(path, fn)
}

func (r *recordFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	r.record("abs", path)
	return r.FileSystem.CleanedAbs(path)
}
