// Package diff compares two sets of rendered objects the way a reviewer
// reads them: objects matched by identity (group, kind, namespace, name),
// fields reported by path with lists of named items matched by key, multi-line
// strings as line diffs, noise (chart labels, checksums, chart randomness)
// left out, Secret values never shown, and notes on the changes that can hurt
// (immutable fields, deletions prune carries out, chart major bumps, ...).
//
// The same engine serves the revision diff (base and head renders) and the
// live drift (cluster objects and their dry-run).
package diff

import (
	"sort"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// Action says what happens to an object between base and head.
type Action string

// Actions.
const (
	Added   Action = "added"
	Removed Action = "removed"
	Changed Action = "changed"
)

// Op says what happened to one field.
type Op string

// Field operations.
const (
	OpAdded   Op = "added"
	OpRemoved Op = "removed"
	OpChanged Op = "changed"
)

// Level grades a note.
type Level string

// Note levels, most severe first.
const (
	Danger  Level = "danger"
	Warning Level = "warning"
)

// FieldDiff is one difference at a field path such as
// spec.template.spec.containers[name=web].image. Old and New are YAML
// (a scalar on one line, a map or list as a block, a multi-line string as
// it is); a multi-line value reads best as a line diff (Lines).
type FieldDiff struct {
	Path string `json:"path"`
	Op   Op     `json:"op"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
	// Masked: a Secret value; Old and New are empty and stay so.
	Masked bool `json:"masked,omitempty"`
}

// Multiline reports whether the values read best as a line diff.
func (f FieldDiff) Multiline() bool {
	return strings.Contains(f.Old, "\n") || strings.Contains(f.New, "\n")
}

// Note is a warning about a change that can hurt.
type Note struct {
	Level   Level  `json:"level"`
	Rule    string `json:"rule"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Change is one object that differs.
type Change struct {
	ID         object.ID `json:"id"`
	APIVersion string    `json:"apiVersion"`
	Action     Action    `json:"action"`
	// Origin is where head renders it (base, for a removed object);
	// BaseOrigin is set when base renders it from another producer.
	Origin     render.Origin  `json:"-"`
	BaseOrigin *render.Origin `json:"-"`
	// Fields are the differences of a changed object.
	Fields []FieldDiff `json:"fields,omitempty"`
	// YAML is the whole object, added or removed, noise stripped and Secret
	// values masked.
	YAML  string `json:"yaml,omitempty"`
	Notes []Note `json:"notes,omitempty"`
}

// Danger reports whether any note is at danger level.
func (c Change) Danger() bool {
	for _, n := range c.Notes {
		if n.Level == Danger {
			return true
		}
	}
	return false
}

// Report is the comparison of two sets of objects.
type Report struct {
	// Title names what was compared (e.g. the cluster path) in headings.
	Title   string   `json:"title,omitempty"`
	Changes []Change `json:"changes"`
	// Failure says why there is no comparison (a side failed to render);
	// the report then shows it instead of changes.
	Failure string `json:"failure,omitempty"`
}

// Changed reports whether anything differs.
func (r *Report) Changed() bool { return r != nil && len(r.Changes) > 0 }

// Counts returns how many objects were added, removed and changed, and how
// many danger notes there are.
func (r *Report) Counts() (added, removed, changed, dangers int) {
	for _, c := range r.Changes {
		switch c.Action {
		case Added:
			added++
		case Removed:
			removed++
		case Changed:
			changed++
		}
		for _, n := range c.Notes {
			if n.Level == Danger {
				dangers++
			}
		}
	}
	return added, removed, changed, dangers
}

// Compare matches base and head objects by identity and returns what
// differs, in a deterministic order (namespace, kind, name, group).
// An object rendered twice under one identity (by two producers) is
// matched occurrence by occurrence.
func Compare(base, head []render.Object, opts Options) *Report {
	c := newComparer(base, head, opts)
	bi, hi := index(base), index(head)
	keys := map[object.ID]bool{}
	for k := range bi {
		keys[k] = true
	}
	for k := range hi {
		keys[k] = true
	}
	var changes []Change
	for k := range keys {
		bs, hs := bi[k], hi[k]
		for n := 0; n < len(bs) || n < len(hs); n++ {
			var b, h *render.Object
			if n < len(bs) {
				b = &bs[n]
			}
			if n < len(hs) {
				h = &hs[n]
			}
			if c.randomTwin(b, h) {
				continue
			}
			if ch, ok := c.compare(b, h); ok {
				changes = append(changes, ch)
			}
		}
	}
	sort.SliceStable(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if a.ID != b.ID {
			return object.Compare(a.ID, b.ID) < 0
		}
		return a.Origin.Producer.String() < b.Origin.Producer.String()
	})
	r := &Report{Changes: changes}
	c.falcoNotes(r)
	c.frozenNotes(r)
	return r
}

func index(objs []render.Object) map[object.ID][]render.Object {
	out := map[object.ID][]render.Object{}
	for _, o := range objs {
		if o.Object == nil {
			continue
		}
		id := object.IDOf(o.Object)
		out[id] = append(out[id], o)
	}
	for _, os := range out {
		sort.SliceStable(os, func(i, j int) bool {
			return os[i].Origin.Producer.String() < os[j].Origin.Producer.String()
		})
	}
	return out
}
