package reporules

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// Check is the finding.Finding.Check of every repository-rule finding.
const Check = "repo-rule"

// subject is one object to evaluate and how findings name it.
type subject struct {
	obj   *unstructured.Unstructured
	file  string
	where string
}

// Check evaluates the rules on one rendered cluster: rules of the rendered
// view on every rendered object, rules of the git view on every document of
// the repository files the render read (Origin.File of objects from this
// checkout, not from a chart or another source), read from repoRoot as they
// are committed. Secret values are masked before any rule sees them, so no
// message can carry one.
func (r *Rules) Check(ctx context.Context, repoRoot string, c *render.Cluster) ([]finding.Finding, error) {
	var subjects []subject
	var gitSubjects []subject
	files := map[string]bool{}
	for _, o := range c.Objects() {
		subjects = append(subjects, subject{obj: o.Object, file: o.Origin.File, where: o.Origin.String()})
		if o.Origin.File != "" && o.Origin.Source == "" && o.Origin.Chart == "" {
			files[o.Origin.File] = true
		}
	}
	if r.queries[InputGit] != nil {
		for _, file := range slices.Sorted(maps.Keys(files)) {
			committed, err := committedSubjects(repoRoot, file)
			if errors.Is(err, fs.ErrNotExist) {
				// Not in this checkout: a remote kustomize base, which the
				// render names by its URL path.
				continue
			}
			if err != nil {
				return nil, err
			}
			gitSubjects = append(gitSubjects, committed...)
		}
	}
	out, err := r.evaluate(ctx, r.queries[InputRendered], subjects)
	if err != nil {
		return nil, err
	}
	fromGit, err := r.evaluate(ctx, r.queries[InputGit], gitSubjects)
	if err != nil {
		return nil, err
	}
	out = append(out, fromGit...)
	for i := range out {
		out[i].Cluster = c.Path
	}
	finding.Sort(out)
	// An object that two Flux objects render (or a file two Kustomizations
	// read) is one finding.
	return slices.CompactFunc(out, func(a, b finding.Finding) bool { return a == b }), nil
}

// CheckFiles evaluates the rules of the git view on the named repository
// files (relative to repoRoot), as committed: for files no render reads,
// such as a whole tree in a pre-commit hook.
func (r *Rules) CheckFiles(ctx context.Context, repoRoot string, files []string) ([]finding.Finding, error) {
	var subjects []subject
	for _, file := range files {
		committed, err := committedSubjects(repoRoot, file)
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, committed...)
	}
	out, err := r.evaluate(ctx, r.queries[InputGit], subjects)
	if err != nil {
		return nil, err
	}
	finding.Sort(out)
	return out, nil
}

// committedSubjects are the objects of a repository file (relative to
// repoRoot) as committed, for the rules of the git view.
func committedSubjects(repoRoot, file string) ([]subject, error) {
	objs, err := readFile(filepath.Join(repoRoot, filepath.FromSlash(file)))
	if err != nil {
		return nil, fmt.Errorf("repo rules: %s: %w", file, err)
	}
	out := make([]subject, len(objs))
	for i, u := range objs {
		out[i] = subject{obj: u, file: file, where: file + " (as committed)"}
	}
	return out, nil
}

// evaluate runs q on every subject, at most r.Concurrency at a time, each
// writing its own slot of the results (no shared state).
func (r *Rules) evaluate(ctx context.Context, q *query, subjects []subject) ([]finding.Finding, error) {
	if q == nil || len(subjects) == 0 {
		return nil, nil
	}
	results := make([][]finding.Finding, len(subjects))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.Concurrency, 1))
	for i, s := range subjects {
		g.Go(func() error {
			found, err := q.eval(ctx, s)
			if err != nil {
				return fmt.Errorf("repo rules: %s (%s): %w", flux.RefOf(s.obj), s.where, err)
			}
			results[i] = found
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []finding.Finding
	for _, found := range results {
		out = append(out, found...)
	}
	return out, nil
}

func (q *query) eval(ctx context.Context, s subject) ([]finding.Finding, error) {
	input, err := ast.InterfaceToValue(secrets.MaskObject(s.obj).Object)
	if err != nil {
		return nil, err
	}
	rs, err := q.prepared.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	sets, ok := rs[0].Expressions[0].Value.([]any)
	if !ok || len(sets) != len(q.rules) {
		return nil, fmt.Errorf("unexpected result %T", rs[0].Expressions[0].Value)
	}
	var out []finding.Finding
	for i, set := range sets {
		msgs, ok := set.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: result is %T, not a set of messages", q.rules[i].Rego, set)
		}
		rule := q.rules[i]
		for _, m := range msgs {
			out = append(out, finding.Finding{
				Object:  object.IDOf(s.obj),
				File:    s.file,
				Where:   s.where,
				Check:   Check,
				Rule:    rule.Name,
				Action:  rule.Action,
				Warning: rule.Action == "warn",
				Message: message(m),
			})
		}
	}
	return out, nil
}

// message is a rule result as text: a string, or conftest's object form
// {"msg": "..."}; anything else as JSON.
func message(v any) string {
	switch m := v.(type) {
	case string:
		return m
	case map[string]any:
		if s, ok := m["msg"].(string); ok {
			return s
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// readFile parses a repository file as the multi-document YAML it is in git
// (JSON too), keeping only documents that are objects with a kind. A file
// that is not YAML is an error.
func readFile(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			continue // only comments, or not an object (e.g. a Falco rules list)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}
