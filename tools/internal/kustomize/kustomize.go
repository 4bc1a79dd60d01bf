// Package kustomize builds one Flux Kustomization the way kustomize-controller
// does: fluxcd/pkg/kustomize's generator and krusty over the source, post-build
// variable substitution, commonMetadata and the owner labels. The source tree
// is never written to: the generated kustomization.yaml lives in memory.
package kustomize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/envsubst"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/fluxcd/pkg/ssa"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/diskcache"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

const (
	originAnnotations = "originAnnotations"
	originAnnotation  = "config.kubernetes.io/origin"
	// SubstituteKey opts an object out of post-build substitution.
	SubstituteKey = "kustomize.toolkit.fluxcd.io/substitute"
)

// varNameRE is the variable name rule kustomize-controller enforces.
var varNameRE = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// Owner is the Flux object whose owner labels are set on what it applies.
var Owner = ssa.Owner{Field: flux.KustomizeController, Group: flux.OwnerGroup(flux.KustomizationKind)}

// Object is one built object and the file it came from, relative to the
// source root.
type Object struct {
	Object *unstructured.Unstructured `json:"object"`
	File   string                     `json:"file"`
}

// Options tunes a build.
type Options struct {
	// Store serves substituteFrom ConfigMaps and Secrets.
	Store *secrets.Store
	// Strict fails on a variable with neither value nor default. When false
	// it is rendered empty, as kustomize-controller does without the
	// StrictPostBuildSubstitutions feature gate, and reported as a warning.
	Strict bool
	// Decryptor, when set, decrypts SOPS-encrypted objects of a
	// Kustomization with spec.decryption (provider sops); without it they
	// stay encrypted and consumers get placeholders.
	Decryptor *secrets.Decryptor
	// Cache keeps build results between runs (nil: none).
	Cache *diskcache.Cache
	// Observations, shared by the builds of one render, remembers what
	// checking a cache entry observed (nil: nothing is remembered).
	Observations *Observations
}

// Result is what one build produced.
type Result struct {
	Objects  []Object `json:"objects"`
	Warnings []string `json:"warnings,omitempty"`
	// Inputs are the paths, relative to the source root (slash-separated;
	// "." the root), that kustomize read, listed or tested: a file read, a
	// directory listed or globbed, a path whose existence decided
	// something. A change to anything else cannot change the result.
	Inputs []string `json:"-"`
}

// Build builds ks from the directory dir (relative to the source root root).
func Build(ctx context.Context, root string, ks *kustomizev1.Kustomization, dir string, opts Options) (*Result, error) {
	dirAbs := filepath.Join(root, filepath.FromSlash(dir))
	if rel, err := filepath.Rel(root, dirAbs); err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("path %q leaves the source root", dir)
	}
	if fi, err := os.Stat(dirAbs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("path %q not found in the source", dir)
	}
	u, err := toUnstructured(ks)
	if err != nil {
		return nil, err
	}
	disk, err := newPlainFS(root, opts.Observations.noLinkPaths())
	if err != nil {
		return nil, err
	}
	sub, err := newSubstituter(ctx, ks, u, opts)
	if err != nil {
		return nil, err
	}

	// Cache: everything the build reads besides the files krusty observes
	// is in the key; those observations are checked on a hit. The key holds
	// what kustomize-controller's generator reads, not what it writes, so a
	// hit runs no generator. Nothing that decryption produced is ever
	// written to disk.
	var key string
	if opts.Cache != nil && (opts.Decryptor == nil || ks.Spec.Decryption == nil) {
		if kfile, in, gen, ok, err := generatorInputs(disk, root, dir, ks); err != nil {
			return nil, err
		} else if ok {
			rel, _ := filepath.Rel(root, kfile)
			if key, err = diskcache.Key("kustomization", u.Object, dir, rel, in, sub.fingerprint()); err != nil {
				return nil, err
			}
			if res, ok := lookup(opts, disk, root, key, kfile, gen); ok {
				return res, nil
			}
		}
	}

	// The generator parses the directory's YAML files itself when it has no
	// kustomization file: bound them first (krusty's reads are bounded as
	// it makes them).
	if err := checkTree(root, dirAbs); err != nil {
		return nil, err
	}
	manifest, kfile, action, err := fluxkustomize.NewGenerator(root, *u).GenerateManifest(dirAbs)
	if err != nil {
		return nil, fmt.Errorf("generate kustomization.yaml: %w", trimBuildError(err, root))
	}
	// Ask kustomize for origin annotations to learn each object's file; they
	// are removed again unless the Kustomization asked for them itself.
	keepOrigin, manifest, err := withOriginAnnotations(manifest)
	if err != nil {
		return nil, err
	}
	fs := securefs.MakeFsInMemory(disk)
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return nil, err
	}
	resMap, deps, err := runRecorded(ctx, fs, root, dirAbs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", trimBuildError(err, root))
	}
	res, err := finish(resMap, root, dirAbs, ks, keepOrigin, sub, opts)
	if err != nil {
		return nil, err
	}
	rel := relDeps(root, deps)
	if key != "" {
		_ = diskcache.StoreVariant(opts.Cache, key, rel, res) // a cache miss next time is the worst outcome
	}
	res.Inputs = inputs(rel, generated(action, dir))
	return res, nil
}

// lookup returns the entry of key whose observations still hold on fs,
// the disk. kfile is where krusty read the generated kustomization.yaml,
// from memory: its observations are skipped, the key holds what made it.
// gen is the directory the generator scanned, if it did.
func lookup(opts Options, fs filesys.FileSystem, root, key, kfile, gen string) (*Result, bool) {
	var (
		cached entry
		deps   []dep
	)
	fresh := func(d []dep) bool {
		deps = d
		abs := slices.DeleteFunc(absDeps(root, d), func(d dep) bool { return d.Path == kfile })
		return !opts.Observations.stale(fs, root, kfile, abs)
	}
	if !diskcache.LoadVariant(opts.Cache, key, &cached, fresh, cached.valid) {
		return nil, false
	}
	res := cached.result()
	res.Inputs = inputs(deps, gen)
	return res, true
}

// entry is a Result as its cache entry is decoded: each object straight
// into the map an *unstructured.Unstructured holds, in the one pass over
// the entry. (An Unstructured decodes its own JSON, after the entry's
// decoder has scanned it: that took a third of a hit's time.)
type entry struct {
	Objects []struct {
		Object      map[string]any `json:"object"`
		plainObject                // the rest of an Object
	} `json:"objects"`
	Warnings []string `json:"warnings,omitempty"`
}

type plainObject = Object

// valid says whether every object has a kind (an Unstructured refuses to
// decode one without).
func (e *entry) valid() bool {
	for _, o := range e.Objects {
		if !object.HasKind(o.Object) {
			return false
		}
	}
	return true
}

func (e *entry) result() *Result {
	res := &Result{Objects: make([]Object, len(e.Objects)), Warnings: e.Warnings}
	for i, o := range e.Objects {
		res.Objects[i] = Object{Object: &unstructured.Unstructured{Object: o.Object}, File: o.File}
	}
	return res
}

// generatorInputs is what kustomize-controller's generator reads besides
// the Flux object, in, and the path of the kustomization file it returns.
// Where dir has a kustomization file, that is the file, found as the
// generator finds it, and its content. Where it has none, the generator
// writes one listing every YAML file below dir and every directory with a
// kustomization file of its own: in is that walk, gen is dir relative to
// root (a file added anywhere below it changes the build), and the YAML
// files listed are read by krusty, so their content is in its
// observations. With ignoreMissingComponents, in also says which
// components exist. ok is false when a read fails: the generator then
// reports it. fs is the source on disk, as the generator sees it.
func generatorInputs(fs filesys.FileSystem, root, dir string, ks *kustomizev1.Kustomization) (kfile, in, gen string, ok bool, err error) {
	dirAbs := filepath.Join(root, filepath.FromSlash(dir))
	var b strings.Builder
	if kfile = findKustomization(fs, dirAbs); kfile != "" {
		data, err := fs.ReadFile(kfile)
		if err != nil {
			return "", "", "", false, nil
		}
		if len(data) > maxFileBytes { // the size bound only: the generator parses it on a miss
			return "", "", "", false, checkFile(relName(root, kfile), data)
		}
		b.WriteString("file\x00")
		b.Write(data)
	} else {
		kfile = filepath.Join(dirAbs, konfig.DefaultKustomizationFileName())
		gen = generated(fluxkustomize.CreatedAction, dir)
		b.WriteString("generated")
		err := fs.Walk(dirAbs, func(p string, info os.FileInfo, err error) error {
			switch {
			case err != nil:
				return err
			case p == dirAbs:
			case info.IsDir():
				if k := findKustomization(fs, p); k != "" {
					fmt.Fprintf(&b, "\x00%s", relName(root, k))
					return filepath.SkipDir
				}
			case filepath.Ext(p) == ".yaml" || filepath.Ext(p) == ".yml":
				fmt.Fprintf(&b, "\x00%s", relName(root, p))
			}
			return nil
		})
		if err != nil {
			return "", "", "", false, nil
		}
	}
	if ks.Spec.IgnoreMissingComponents {
		for _, c := range ks.Spec.Components {
			fmt.Fprintf(&b, "\x00component %s=%t", c, fs.Exists(filepath.Join(dirAbs, c)))
		}
	}
	return kfile, b.String(), gen, true, nil
}

// findKustomization is the kustomization file of dir the generator uses,
// or "".
func findKustomization(fs filesys.FileSystem, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if p := filepath.Join(dir, name); fs.Exists(p) && !fs.IsDir(p) {
			return p
		}
	}
	return ""
}

// generated is the build directory when kustomize-controller's generator
// wrote its kustomization.yaml: from every YAML file below it, so a file
// added anywhere there changes the build.
func generated(action fluxkustomize.Action, dir string) string {
	if action == fluxkustomize.CreatedAction {
		return path.Clean(dir)
	}
	return ""
}

// inputs are the paths of observations relative to the source root,
// sorted, each once (an absolute path: outside the root), and dir when
// it is set.
func inputs(deps []dep, dir string) []string {
	out := make([]string, 0, len(deps)+1)
	for _, d := range deps {
		out = append(out, d.Path)
	}
	if dir != "" {
		out = append(out, dir)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// buildMetadataKey finds a top-level buildMetadata field in a generated
// kustomization.yaml (block style: the generator writes it with
// sigs.k8s.io/yaml).
var buildMetadataKey = regexp.MustCompile(`(?m)^buildMetadata:`)

// withOriginAnnotations adds originAnnotations to the buildMetadata of a
// generated kustomization.yaml and says whether it was there already.
// Without a buildMetadata field (nearly always) the field is appended as
// text: re-encoding the whole file through the Kustomization type, which
// the generator has just done, was a sixth of a warm render.
func withOriginAnnotations(manifest []byte) (bool, []byte, error) {
	if !buildMetadataKey.Match(manifest) {
		out := append(bytes.TrimRight(manifest, "\n"), "\nbuildMetadata:\n- "+originAnnotations+"\n"...)
		return false, out, nil
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return false, nil, fmt.Errorf("generated kustomization.yaml: %w", err)
	}
	if slices.Contains(kus.BuildMetadata, originAnnotations) {
		return true, manifest, nil
	}
	kus.BuildMetadata = append(kus.BuildMetadata, originAnnotations)
	out, err := yaml.Marshal(kus)
	return false, out, err
}

// relDeps makes observed paths relative to the source root, so an entry
// serves another checkout of the same content (a diff's base and head).
func relDeps(root string, deps []dep) []dep {
	out := make([]dep, len(deps))
	for i, d := range deps {
		if rel, err := filepath.Rel(root, d.Path); err == nil && filepath.IsAbs(d.Path) {
			d.Path = filepath.ToSlash(rel)
		}
		out[i] = d
	}
	return out
}

func absDeps(root string, deps []dep) []dep {
	out := make([]dep, len(deps))
	for i, d := range deps {
		d.Path = filepath.Join(root, filepath.FromSlash(d.Path))
		out[i] = d
	}
	return out
}

// finish turns krusty's output into the objects kustomize-controller would
// apply: origin recorded, decrypted, substituted, commonMetadata and owner
// labels set.
func finish(resMap resmap.ResMap, root, dirAbs string, ks *kustomizev1.Kustomization, keepOrigin bool, sub *substituter, opts Options) (*Result, error) {
	res := &Result{}
	objects := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, r := range resMap.Resources() {
		if r.GetName() == "" || r.GetKind() == "" || r.GetApiVersion() == "" {
			return nil, fmt.Errorf("object without apiVersion, kind or name: %s", strings.TrimSpace(r.MustYaml()))
		}
		file := originFile(r, root, dirAbs)
		if !keepOrigin {
			if err := dropAnnotation(r, originAnnotation); err != nil {
				return nil, err
			}
		}
		if err := decrypt(r, ks, opts.Decryptor); err != nil {
			return nil, fmt.Errorf("decrypt %s %s (%s): %w", r.GetKind(), r.GetName(), file, err)
		}
		if sub != nil {
			if err := sub.apply(r); err != nil {
				return nil, fmt.Errorf("post build of %s %s (%s): %w", r.GetKind(), r.GetName(), file, err)
			}
		}
		// kustomize-controller applies what its YAML decoder makes of
		// krusty's YAML output (kyaml re-emits block scalars its own way),
		// so the object is decoded from that output in the same way.
		data, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s %s (%s): %w", r.GetKind(), r.GetName(), file, err)
		}
		objs, err := object.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s %s (%s): %w", r.GetKind(), r.GetName(), file, err)
		}
		for _, obj := range objs {
			objects = append(objects, obj)
			res.Objects = append(res.Objects, Object{Object: obj, File: file})
		}
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	SetOwnerLabels(objects, ks.Name, ks.Namespace)
	if sub != nil {
		res.Warnings = append(res.Warnings, sub.warnings()...)
	}
	return res, nil
}

// SetOwnerLabels sets the labels kustomize-controller marks applied objects
// with (kustomize.toolkit.fluxcd.io/name and /namespace).
func SetOwnerLabels(objects []*unstructured.Unstructured, name, namespace string) {
	// The resource manager only labels here; it needs no cluster for that.
	ssa.NewResourceManager(nil, nil, Owner).SetOwnerLabels(objects, name, namespace)
}

// decrypt replaces a SOPS-encrypted resource by its plain form when the
// Kustomization asks for SOPS decryption and the user gave a key.
func decrypt(r *resource.Resource, ks *kustomizev1.Kustomization, d *secrets.Decryptor) error {
	if d == nil || ks.Spec.Decryption == nil || ks.Spec.Decryption.Provider != "sops" {
		return nil
	}
	m, err := r.Map()
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	if !secrets.IsSOPS(u) {
		return nil
	}
	plain, err := d.Decrypt(u)
	if err != nil {
		return err
	}
	js, err := json.Marshal(plain.Object)
	if err != nil {
		return err
	}
	return r.UnmarshalJSON(js)
}

// trimBuildError makes kustomize's absolute paths relative to the source root.
func trimBuildError(err error, root string) error {
	msg := strings.ReplaceAll(err.Error(), root+string(filepath.Separator), "")
	return errors.New(msg)
}

func toUnstructured(ks *kustomizev1.Kustomization) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// originFile returns the repository file an object was read or generated from,
// relative to root.
func originFile(r *resource.Resource, root, dirAbs string) string {
	origin, err := r.GetOrigin()
	if err != nil || origin == nil {
		return ""
	}
	p := origin.Path
	if p == "" {
		p = origin.ConfiguredIn
	}
	if p == "" || origin.Repo != "" {
		return p
	}
	rel, err := filepath.Rel(root, filepath.Join(dirAbs, p))
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

func dropAnnotation(r *resource.Resource, key string) error {
	ann := r.GetAnnotations()
	if _, ok := ann[key]; !ok {
		return nil
	}
	delete(ann, key)
	return r.SetAnnotations(ann)
}

// substituter runs postBuild substitution with the variables Flux would load,
// reporting every variable it could not resolve instead of rendering it empty.
type substituter struct {
	vars    map[string]string
	store   *secrets.Store
	strict  bool
	always  bool
	ns      string
	missing map[string]bool
	stood   map[string]bool
}

func newSubstituter(ctx context.Context, ks *kustomizev1.Kustomization, u *unstructured.Unstructured, opts Options) (*substituter, error) {
	pb := ks.Spec.PostBuild
	if pb == nil {
		return nil, nil
	}
	requests := map[string]secrets.Request{}
	for _, ref := range pb.SubstituteFrom {
		if ref.Kind == "Secret" {
			req, ok := requests[ref.Name]
			req.Optional = ref.Optional && (!ok || req.Optional)
			requests[ref.Name] = req
		}
	}
	view := opts.Store.View(ks.Namespace, requests)
	vars, err := fluxkustomize.LoadVariables(ctx, view, *u)
	if err != nil {
		return nil, fmt.Errorf("substituteFrom: %w", err)
	}
	for k, v := range pb.Substitute {
		vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	for name := range vars {
		if !varNameRE.MatchString(name) {
			return nil, fmt.Errorf("variable name %q is invalid, must match %s", name, varNameRE)
		}
	}
	return &substituter{
		vars: vars, store: view, strict: opts.Strict, ns: ks.Namespace,
		always:  ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways,
		missing: map[string]bool{}, stood: map[string]bool{},
	}, nil
}

// fingerprint is what the substitution depends on, for the cache key.
func (s *substituter) fingerprint() any {
	if s == nil {
		return nil
	}
	return map[string]any{"vars": s.vars, "strict": s.strict, "always": s.always, "stoodIn": s.store.StoodIn(), "warnings": s.store.Warnings()}
}

func (s *substituter) apply(r *resource.Resource) error {
	if r.GetLabels()[SubstituteKey] == fluxkustomize.DisabledValue || r.GetAnnotations()[SubstituteKey] == fluxkustomize.DisabledValue {
		return nil
	}
	if len(s.vars) == 0 && !s.always {
		return nil
	}
	data, err := r.AsYAML()
	if err != nil {
		return err
	}
	out, err := envsubst.Eval(string(data), s.lookup)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return fmt.Errorf("after substitution: %w", err)
	}
	return r.UnmarshalJSON(js)
}

func (s *substituter) lookup(name string) (string, bool) {
	if v, ok := s.vars[name]; ok {
		return v, true
	}
	if s.store.StoodIn() {
		// A required Secret is missing or encrypted: it may define this.
		s.stood[name] = true
		return secrets.Placeholder(s.ns, "unavailable", name), true
	}
	if s.strict {
		return "", false
	}
	s.missing[name] = true
	return "", true
}

func (s *substituter) warnings() []string {
	out := s.store.Warnings()
	for _, name := range slices.Sorted(maps.Keys(s.stood)) {
		out = append(out, fmt.Sprintf("variable %s has no value; a placeholder stands in for the unavailable Secret", name))
	}
	for _, name := range slices.Sorted(maps.Keys(s.missing)) {
		out = append(out, fmt.Sprintf("variable %s has no value and no default: rendered empty (non-strict substitution)", name))
	}
	return out
}
