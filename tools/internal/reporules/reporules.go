// Package reporules evaluates the repository rules (policies/repo): Rego
// files in conftest's conventions — package main, `deny_<name> contains msg`
// and `warn_<name> contains msg` over one Kubernetes object as input — with
// OPA's Go library, so the same files run under `conftest test` and here.
//
// Each rule declares in its METADATA which view of an object it judges
// (custom.input): "rendered" (the default) sees objects as Flux applies them,
// after patches, substitution and namespaces; "git" sees the repository
// files as committed, the only place where "is this file SOPS-encrypted" can
// be answered. A rule runs on one view only, so no object is reported twice
// for the same rule.
package reporules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Input views a rule can judge.
const (
	// InputRendered is the object as Flux applies it (the render).
	InputRendered = "rendered"
	// InputGit is the object as it is in the repository file.
	InputGit = "git"
)

// Package is the Rego package the rules live in (conftest's default
// namespace).
const Package = "main"

// ruleName matches conftest's rule names: deny, warn or violation, with an
// optional _suffix naming the rule.
var ruleName = regexp.MustCompile(`^(deny|warn|violation)((_[a-zA-Z0-9]+)*)$`)

// Rule is one deny or warn rule of the rule files.
type Rule struct {
	// Name is the rule's stable name: the Rego rule name without its
	// deny_/warn_/violation_ prefix. Findings carry it.
	Name string
	// Action is deny (deny and violation rules) or warn.
	Action string
	// Input is InputRendered or InputGit.
	Input string
	// Title and Description come from the rule's METADATA.
	Title       string
	Description string
	// Rego is the rule's name in Rego (e.g. deny_image_pinned); File and
	// Line where it is first defined.
	Rego string
	File string
	Line int
}

// Rules are compiled rule files, prepared once for evaluation.
type Rules struct {
	dir string
	// policy holds the rule modules, tests the *_test.rego ones, by file.
	policy map[string]*ast.Module
	tests  map[string]*ast.Module
	rules  []Rule
	// queries per input view; nil when no rule judges that view.
	queries map[string]*query
	// Concurrency bounds parallel evaluations (default GOMAXPROCS).
	Concurrency int
}

// query is the prepared evaluation of the rules of one input view: one
// array with each rule's set of messages, in the order of rules.
type query struct {
	rules    []Rule
	prepared rego.PreparedEvalQuery
}

// Load parses and compiles every .rego file under dir once (rule files for
// Check; rule and *_test.rego files for Test). A file that does not parse or
// compile is an error naming the file and line.
func Load(ctx context.Context, dir string) (*Rules, error) {
	r := &Rules{dir: dir, policy: map[string]*ast.Module{}, tests: map[string]*ast.Module{}, Concurrency: runtime.GOMAXPROCS(0)}
	var errs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		mod, err := ast.ParseModuleWithOpts(path, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			errs = append(errs, oneLine(err).Error())
			return nil
		}
		if strings.HasSuffix(path, "_test.rego") {
			r.tests[path] = mod
		} else {
			r.policy[path] = mod
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo rules %s: %w", dir, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("repo rules %s: %s", dir, strings.Join(errs, "; "))
	}
	if len(r.policy) == 0 {
		return nil, fmt.Errorf("repo rules %s: no .rego rule files", dir)
	}
	compiler := ast.NewCompiler()
	if compiler.Compile(r.policy); compiler.Failed() {
		return nil, fmt.Errorf("repo rules %s: %w", dir, oneLine(compiler.Errors))
	}
	rules, err := collectRules(compiler, r.policy)
	if err != nil {
		return nil, fmt.Errorf("repo rules %s: %w", dir, err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("repo rules %s: no deny_* or warn_* rule in package %s", dir, Package)
	}
	r.rules = rules
	r.queries = map[string]*query{}
	for _, input := range []string{InputRendered, InputGit} {
		var refs []string
		q := &query{}
		for _, rule := range rules {
			if rule.Input == input {
				q.rules = append(q.rules, rule)
				refs = append(refs, "data."+Package+"."+rule.Rego)
			}
		}
		if len(q.rules) == 0 {
			continue
		}
		pq, err := rego.New(
			rego.Compiler(compiler),
			rego.Query("["+strings.Join(refs, ", ")+"]"),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("repo rules %s: %w", dir, oneLine(err))
		}
		q.prepared = pq
		r.queries[input] = q
	}
	return r, nil
}

// Rules returns the deny and warn rules, sorted by name and action.
func (r *Rules) Rules() []Rule { return slices.Clone(r.rules) }

// collectRules finds the deny/warn/violation rules of package main, with
// their input view from METADATA (custom.input). A warn_x rule without
// METADATA takes the input of deny_x.
func collectRules(compiler *ast.Compiler, modules map[string]*ast.Module) ([]Rule, error) {
	annotations := map[string]*ast.Annotations{}
	for _, a := range compiler.GetAnnotationSet().Flatten() {
		if a.Annotations != nil {
			annotations[a.Path.String()] = a.Annotations
		}
	}
	byRego := map[string]*Rule{}
	files := slices.Sorted(maps.Keys(modules))
	for _, file := range files {
		mod := modules[file]
		if mod.Package.Path.String() != "data."+Package {
			continue
		}
		for _, rule := range mod.Rules {
			name := rule.Head.Name.String()
			if len(rule.Head.Reference) > 1 {
				continue // deny.x[...] style refs are not conftest rules
			}
			if name == "" {
				name = rule.Head.Reference.String()
			}
			m := ruleName.FindStringSubmatch(name)
			if m == nil || byRego[name] != nil {
				continue
			}
			loc := rule.Loc()
			if rule.Head.RuleKind() != ast.MultiValue {
				return nil, fmt.Errorf("%s:%d: %s must be a multi-value rule (%s contains msg if { ... })", file, loc.Row, name, name)
			}
			out := &Rule{Rego: name, Action: "deny", Name: strings.TrimPrefix(m[2], "_"), File: file, Line: loc.Row}
			if m[1] == "warn" {
				out.Action = "warn"
			}
			if out.Name == "" {
				out.Name = name
			}
			if a := annotations["data."+Package+"."+name]; a != nil {
				out.Title, out.Description = a.Title, strings.TrimSpace(a.Description)
				if v, ok := a.Custom["input"]; ok {
					s, _ := v.(string)
					if s != InputRendered && s != InputGit {
						return nil, fmt.Errorf("%s:%d: %s: METADATA custom.input %v: want %q or %q", file, loc.Row, name, v, InputRendered, InputGit)
					}
					out.Input = s
				}
			}
			byRego[name] = out
		}
	}
	// Inherit the input view (and description) from the sibling rule of the
	// same name, so one METADATA block documents deny_x and warn_x.
	for _, rule := range byRego {
		if rule.Input != "" {
			continue
		}
		for _, other := range byRego {
			if other.Name == rule.Name && other.Input != "" {
				rule.Input = other.Input
				if rule.Title == "" {
					rule.Title, rule.Description = other.Title, other.Description
				}
			}
		}
		if rule.Input == "" {
			rule.Input = InputRendered
		}
	}
	out := make([]Rule, 0, len(byRego))
	for _, rule := range byRego {
		out = append(out, *rule)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Action < out[j].Action
	})
	return out, nil
}

// oneLine flattens OPA's multi-line error lists ("2 errors occurred:\n
// file:row: code: msg\n...") to one line naming each file and line.
func oneLine(err error) error {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		msgs := make([]string, 0, len(astErrs))
		for _, e := range astErrs {
			msg := e.Code + ": " + e.Message
			if e.Location != nil {
				msg = fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, msg)
			}
			msgs = append(msgs, msg)
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return errors.New(strings.Join(strings.Fields(err.Error()), " "))
}
