package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/validate"
)

// Formats of Findings.
var Formats = []string{"text", "json", "github"}

// Findings writes validation findings sorted by cluster, object and
// message, as text (one line each, then counts), JSON, or GitHub Actions
// workflow commands (annotations on the files, plus the text).
func Findings(w io.Writer, format string, findings []validate.Finding) error {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Message < b.Message
	})
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []validate.Finding{}
		}
		return enc.Encode(map[string]any{"findings": findings})
	case "github":
		for _, f := range findings {
			level := "error"
			if f.Warning {
				level = "warning"
			}
			file := ""
			if f.File != "" {
				file = "file=" + escapeProperty(f.File) + ","
			}
			fmt.Fprintf(w, "::%s %stitle=%s::%s\n", level, file, escapeProperty(f.Check+" "+f.Object), escapeData(f.Message))
		}
		fallthrough
	case "text", "":
		warnings := 0
		for _, f := range findings {
			level := "error"
			if f.Warning {
				level = "warning"
				warnings++
			}
			fmt.Fprintf(w, "%s: %s: %s (%s): %s: %s\n", level, f.Cluster, f.Object, f.Where, f.Check, f.Message)
		}
		fmt.Fprintf(w, "%d findings (%d errors, %d warnings)\n", len(findings), len(findings)-warnings, warnings)
		return nil
	}
	return fmt.Errorf("unknown format %q (%s)", format, strings.Join(Formats, ", "))
}

// escapeData and escapeProperty encode values for GitHub workflow commands.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
