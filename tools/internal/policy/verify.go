package policy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/verify"
	"golang.org/x/sync/errgroup"
)

// SuiteResult is the verdict on one gator Suite file.
type SuiteResult struct {
	// Path is the suite file, under the path it was found from.
	Path    string       `json:"path"`
	Skipped bool         `json:"skipped,omitempty"`
	Error   string       `json:"error,omitempty"`
	Tests   []TestResult `json:"tests"`
}

// TestResult is the verdict on one template/constraint pair of a suite.
type TestResult struct {
	Name    string       `json:"name"`
	Skipped bool         `json:"skipped,omitempty"`
	Error   string       `json:"error,omitempty"`
	Cases   []CaseResult `json:"cases"`
}

// CaseResult is the verdict on one object of a test.
type CaseResult struct {
	Name    string `json:"name"`
	Skipped bool   `json:"skipped,omitempty"`
	// Error says why the case failed; empty when it passed.
	Error string `json:"error,omitempty"`
}

// Failed reports whether the suite, one of its tests or cases failed.
func (r SuiteResult) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, t := range r.Tests {
		if t.Failed() {
			return true
		}
	}
	return false
}

// Failed reports whether the test or one of its cases failed.
func (r TestResult) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, c := range r.Cases {
		if c.Error != "" {
			return true
		}
	}
	return false
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Concurrency bounds the suites run at once (default GOMAXPROCS).
	Concurrency int
}

// Verify runs every gator Suite (test.gatekeeper.sh/v1alpha1) found under
// paths (directories, walked recursively, or suite files) with gator's own
// runner and the same drivers as `gator verify` (CEL and Rego). An error
// means a suite could not be read, or no suite was found.
func Verify(ctx context.Context, paths []string, opts VerifyOptions) ([]SuiteResult, error) {
	fsys := os.DirFS("/")
	type found struct {
		suite *verify.Suite
		path  string
	}
	var suites []found
	for _, p := range paths {
		files, err := yamlFiles(p)
		if err != nil {
			return nil, err
		}
		n := len(suites)
		for _, file := range files {
			abs, err := filepath.Abs(file)
			if err != nil {
				return nil, err
			}
			target := strings.TrimPrefix(filepath.ToSlash(abs), "/")
			list, err := verify.ReadSuites(fsys, target, target, false)
			if err != nil {
				return nil, fmt.Errorf("suite %s: %w", file, err)
			}
			for _, s := range list {
				suites = append(suites, found{suite: s, path: filepath.ToSlash(file)})
			}
		}
		if len(suites) == n {
			return nil, fmt.Errorf("suites %s: no Suite (test.gatekeeper.sh/v1alpha1) found", p)
		}
	}
	runner, err := verify.NewRunner(fsys, func(o ...gator.Opt) (gator.Client, error) {
		return gator.NewOPAClient(false, append(o, gator.WithK8sCEL())...)
	})
	if err != nil {
		return nil, fmt.Errorf("gator runner: %w", err)
	}
	filter, err := verify.NewFilter("")
	if err != nil {
		return nil, err
	}
	limit := opts.Concurrency
	if limit < 1 {
		limit = runtime.GOMAXPROCS(0)
	}
	out := make([]SuiteResult, len(suites))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, s := range suites {
		g.Go(func() error {
			out[i] = convert(s.path, runner.Run(gctx, filter, s.suite))
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func convert(path string, r verify.SuiteResult) SuiteResult {
	out := SuiteResult{Path: path, Skipped: r.Skipped, Error: errString(r.Error), Tests: []TestResult{}}
	for _, t := range r.TestResults {
		tr := TestResult{Name: t.Name, Skipped: t.Skipped, Error: errString(t.Error), Cases: []CaseResult{}}
		for _, c := range t.CaseResults {
			tr.Cases = append(tr.Cases, CaseResult{Name: c.Name, Skipped: c.Skipped, Error: errString(c.Error)})
		}
		out.Tests = append(out.Tests, tr)
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// yamlFiles returns p if it is a file, else the YAML files below it
// (walked recursively, sorted), as gator verify DIR/... reads them.
func yamlFiles(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("suites %s: %w", p, err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && gator.IsYAMLExtension(filepath.Ext(path)) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("suites %s: %w", p, err)
	}
	sort.Strings(out)
	return out, nil
}
