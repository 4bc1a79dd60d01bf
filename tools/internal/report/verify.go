package report

import (
	"fmt"
	"io"

	"github.com/aks-gitops/platform/tools/internal/policy"
)

// Verify writes the results of gator suites: JSON (the envelope), or text with one line
// per suite, test and case, indented, with
// why each failure failed, then the counts.
func Verify(w io.Writer, format string, results []policy.SuiteResult, color bool) error {
	switch format {
	case "json":
		if results == nil {
			results = []policy.SuiteResult{}
		}
		return writeJSON(w, envelope{Verb: "policy verify", Suites: results})
	case "text":
	default:
		return &UnknownFormatError{format, SuiteFormats}
	}
	var suites, tests, cases, failedCases, failedTests int
	p := painter(color)
	verdict := func(skipped, failed bool) string {
		switch {
		case skipped:
			return p.paint(ansiYellow, "SKIP")
		case failed:
			return p.paint(ansiBold+ansiRed, "FAIL")
		}
		return p.paint(ansiGreen, "ok") + "  "
	}
	for _, s := range results {
		suites++
		fmt.Fprintf(w, "%s %s\n", verdict(s.Skipped, s.Failed()), s.Path)
		if s.Error != "" {
			fmt.Fprintf(w, "       %s\n", s.Error)
		}
		for _, t := range s.Tests {
			tests++
			if t.Failed() {
				failedTests++
			}
			fmt.Fprintf(w, "  %s %s\n", verdict(t.Skipped, t.Failed()), t.Name)
			if t.Error != "" {
				fmt.Fprintf(w, "         %s\n", t.Error)
			}
			for _, c := range t.Cases {
				cases++
				fmt.Fprintf(w, "    %s %s\n", verdict(c.Skipped, c.Error != ""), c.Name)
				if c.Error != "" {
					failedCases++
					fmt.Fprintf(w, "           %s\n", c.Error)
				}
			}
		}
	}
	result := p.paint(ansiGreen, "PASS")
	if failedCases+failedTests > 0 {
		result = p.paint(ansiBold+ansiRed, "FAIL")
	}
	_, err := fmt.Fprintf(w, "%s: %d suites, %d tests (%d failed), %d cases (%d failed)\n", result, suites, tests, failedTests, cases, failedCases)
	return err
}
