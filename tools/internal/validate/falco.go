package validate

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/falcorules"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// falcoRules checks the Falco rule files the render delivers in
// ConfigMaps (ours: generated from plain rule files and mounted in
// /etc/falco/rules.d). All rule files of a cluster are checked together,
// as one Falco loads them. A finding points at the repository rule file
// when the ConfigMap was generated from one (see ruleFile).
func falcoRules(objects []render.Object, repoRoot string, newFinding func(render.Object, string, string) Finding) []Finding {
	files := map[string][]byte{}
	from := map[string]render.Object{}
	for _, o := range objects {
		data, ok := falcorules.FromConfigMap(o.Object)
		if !ok {
			continue
		}
		for name, content := range data {
			files[name] = content
			from[name] = o
		}
	}
	if len(files) == 0 {
		return nil
	}
	var out []Finding
	for _, p := range falcorules.Check(files) {
		o := from[p.File]
		file := ruleFile(repoRoot, o.Origin.File, p.File)
		if file != "" {
			p.File = file
		}
		f := newFinding(o, "falco-rules", strings.TrimPrefix(p.String(), "warning: "))
		f.Warning = p.Warning
		if file != "" {
			f.File = file
		}
		out = append(out, f)
	}
	return out
}

// ruleFile finds the repository file a generated ConfigMap's key came
// from: the one file of that name below the generating kustomization's
// directory ("" when there is none or more than one).
func ruleFile(repoRoot, origin, key string) string {
	if repoRoot == "" || origin == "" || path.Base(origin) != "kustomization.yaml" && path.Base(origin) != "kustomization.yml" {
		return ""
	}
	dir := path.Dir(origin)
	var found []string
	_ = filepath.WalkDir(filepath.Join(repoRoot, filepath.FromSlash(dir)), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == key {
			rel, relErr := filepath.Rel(repoRoot, p)
			if relErr == nil {
				found = append(found, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if len(found) != 1 {
		return ""
	}
	return found[0]
}
