package kustomize

import (
	"fmt"
	"path/filepath"
	"slices"
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

// krustyMu serialises every krusty run and every use of kyaml's
// process-wide OpenAPI schema: krusty is not safe for concurrent builds.
var (
	krustyMu sync.Mutex
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
func Run(fs filesys.FileSystem, dir string) (m resmap.ResMap, err error) {
	krustyMu.Lock()
	defer krustyMu.Unlock()
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
	watch := &schemaWatch{FileSystem: fs}
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err = k.Run(watch, dir)
	if watch.changesSchema || openapi.GetSchemaVersion() != defaultSchema {
		openapi.ResetOpenAPI()
		schemaDirty = true
	}
	return m, err
}

// ClusterScoped reports whether kyaml's schema knows the kind as cluster
// scoped, under the same lock as the builds that reset that schema.
func ClusterScoped(apiVersion, kind string) bool {
	krustyMu.Lock()
	defer krustyMu.Unlock()
	return openapi.IsCertainlyClusterScoped(kyaml.TypeMeta{APIVersion: apiVersion, Kind: kind})
}

// schemaWatch notes whether any kustomization file krusty reads declares
// `openapi` or `crds`, the two fields that change the global schema.
type schemaWatch struct {
	filesys.FileSystem
	changesSchema bool
}

func (w *schemaWatch) ReadFile(path string) ([]byte, error) {
	data, err := w.FileSystem.ReadFile(path)
	if err == nil && slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		var top map[string]any
		if yaml.Unmarshal(data, &top) != nil {
			w.changesSchema = true // let krusty report it; assume the worst
		} else if _, ok := top["openapi"]; ok {
			w.changesSchema = true
		} else if _, ok := top["crds"]; ok {
			w.changesSchema = true
		}
	}
	return data, err
}
