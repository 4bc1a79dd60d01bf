package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The formats, one list per kind of result. Every verb offers the formats of
// what it reports: findings (check, validate, policy), changes (diff, diff
// --live), suite results (policy verify); the whole-run reports (check,
// the revision diff) an HTML page as well.
var (
	FindingFormats = []string{"text", "json", "markdown", "github", "junit", "sarif"}
	CheckFormats   = append(slices.Clip(FindingFormats), "html")
	ChangeFormats  = []string{"text", "json", "markdown"}
	DiffFormats    = append(slices.Clip(ChangeFormats), "html")
	SuiteFormats   = []string{"text", "json"}
)

// UnknownFormatError is a format a writer does not know.
type UnknownFormatError struct {
	Format string
	Known  []string
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown format %q: want one of %s", e.Format, strings.Join(e.Known, ", "))
}

// SchemaVersion is the version of the JSON every verb writes
// (docs/json.md). It changes when a field changes meaning or goes away,
// not when one is added.
const SchemaVersion = 1

// envelope is the one shape of every verb's JSON output: the schema
// version, the verb, then the results per cluster entry (check, validate,
// policy, diff, diff --live) or per suite (policy verify).
type envelope struct {
	Version  int    `json:"version"`
	Verb     string `json:"verb"`
	Clusters any    `json:"clusters,omitempty"`
	Suites   any    `json:"suites,omitempty"`
}

// writeJSON writes one envelope, indented.
func writeJSON(w io.Writer, e envelope) error {
	e.Version = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}
