package drift

import (
	"testing"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// TestUnknowable: a field whose rendered value substitutes a Secret the
// render does not read is left out (its live value is the real secret), with
// a note; other fields stay.
func TestUnknowable(t *testing.T) {
	fields := []diff.FieldDiff{
		{Path: "data.password", Op: diff.OpChanged, Old: "the-real-value", New: "x-" + secrets.Placeholder("apps", "db", "PASSWORD")},
		{Path: "data.mode", Op: diff.OpChanged, Old: "a", New: "b"},
	}
	kept, notes := unknowable(fields, nil)
	if len(kept) != 1 || kept[0].Path != "data.mode" {
		t.Errorf("kept %+v, want data.mode only", kept)
	}
	if len(notes) != 1 || notes[0].Rule != "secret-substitution" {
		t.Errorf("notes %+v, want one secret-substitution note", notes)
	}
	if kept, notes := unknowable(kept, nil); len(kept) != 1 || len(notes) != 0 {
		t.Errorf("no placeholder: kept %+v, notes %+v", kept, notes)
	}
}
