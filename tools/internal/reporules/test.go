package reporules

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego unit test (a test_* rule).
type TestResult struct {
	// Name is the package-qualified rule name, e.g. data.main.test_x.
	Name string
	File string
	Line int
	Pass bool
	Skip bool
	// Failure says why a failing test failed: its error, or that an
	// expression was false (with what the test printed).
	Failure string
}

// Test runs the Rego unit tests (test_* rules in *_test.rego files, with
// the rule files) through OPA's tester. Failing tests are results, not an
// error; an error is tests that could not run (e.g. a test file that does
// not compile).
func (r *Rules) Test(ctx context.Context) ([]TestResult, error) {
	modules := maps.Clone(r.policy)
	maps.Copy(modules, r.tests)
	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetModules(modules).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("repo rules %s: tests: %w", r.dir, oneLine(err))
	}
	var out []TestResult
	for res := range ch {
		tr := TestResult{Name: res.Package + "." + res.Name, Pass: res.Pass(), Skip: res.Skip}
		if res.Location != nil {
			tr.File, tr.Line = res.Location.File, res.Location.Row
		}
		switch {
		case res.Error != nil:
			tr.Failure = oneLine(res.Error).Error()
		case res.Fail:
			tr.Failure = "failed: an expression of the test is false or undefined"
			if len(res.Output) > 0 {
				tr.Failure += "; printed: " + strings.Join(strings.Fields(string(res.Output)), " ")
			}
		}
		out = append(out, tr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}
