package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/report"
)

// comment is one report's Markdown in comment-sized parts: file names its
// files, name its comments (report.PartMarker).
type comment struct {
	file, name string
	parts      []string
}

// writeMarkdownDir writes each report's Markdown parts as
// FILE.part-N.md files (FILE with / as _), each a header (the hidden marker
// the pull-request workflow finds the comment by, and "part i/n") followed
// by a part; the parts without their headers concatenate to the report's
// Markdown. Files of an earlier run are replaced.
func writeMarkdownDir(dir string, comments []comment) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--markdown-dir: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.part-*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("--markdown-dir: %w", err)
		}
	}
	for _, c := range comments {
		slug := strings.ReplaceAll(c.file, "/", "_")
		for i, p := range c.parts {
			name := filepath.Join(dir, fmt.Sprintf("%s.part-%d.md", slug, i+1))
			data := report.PartHeader(c.name, i+1, len(c.parts)) + p
			if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
				return fmt.Errorf("--markdown-dir: %w", err)
			}
		}
	}
	return nil
}
