package validate

import (
	"io/fs"
	"path"
	"path/filepath"

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
	repoFile := map[string]string{} // ConfigMap key → repository file, walked once
	for _, p := range falcorules.Check(files) {
		o := from[p.File]
		file, seen := repoFile[p.File]
		if !seen {
			file = ruleFile(repoRoot, o.Origin.File, p.File)
			repoFile[p.File] = file
		}
		if file != "" {
			p.File = file
		}
		// The finding carries the level; the message does not repeat it.
		warning := p.Warning
		p.Warning = false
		f := newFinding(o, "falco-rules", p.String())
		f.Warning = warning
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
