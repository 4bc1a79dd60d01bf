package diff

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/fieldpath"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// comparer holds what every object comparison needs.
type comparer struct {
	opts Options
	// secretValues are every Secret value of either side (at least
	// minSecretLen long): any of them found elsewhere is masked too.
	secretValues []string
	// base and head objects by identity, for notes that look at other
	// objects (the producing Kustomization's prune).
	base, head map[object.ID]render.Object
	// frozen counts, per producer suspended in head, the objects it
	// rendered in base and no longer renders.
	frozen map[flux.Ref]int
	// randomNamed counts, per producer, template and kind, the objects
	// whose very name is random ("*") on each side.
	randomNamed [2]map[string]int
}

// minSecretLen: shorter values ("true", "admin") would mask unrelated text
// everywhere; Secret objects themselves never show any value.
const minSecretLen = 8

// maskable reports whether a Secret value is worth masking wherever it
// appears: long enough, and not a number or a boolean.
func maskable(v string) bool {
	if len(strings.TrimSpace(v)) < minSecretLen {
		return false
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return false
	}
	_, err := strconv.ParseBool(v)
	return err != nil
}

func newComparer(base, head []render.Object, opts Options) *comparer {
	c := &comparer{
		opts: opts, base: map[object.ID]render.Object{}, head: map[object.ID]render.Object{}, frozen: map[flux.Ref]int{},
		randomNamed: [2]map[string]int{{}, {}},
	}
	seen := map[string]bool{}
	for i, set := range [][]render.Object{base, head} {
		byID := [2]map[object.ID]render.Object{c.base, c.head}[i]
		for _, o := range set {
			if o.Object == nil {
				continue
			}
			id := object.IDOf(o.Object)
			byID[id] = o
			if slices.Contains(o.Origin.Random, "*") {
				c.randomNamed[i][randomKey(o)]++
			}
			if !isSecret(id) {
				continue
			}
			for _, v := range secretData(o.Object.Object) {
				if maskable(v) && !seen[v] {
					seen[v] = true
					c.secretValues = append(c.secretValues, v)
				}
			}
		}
	}
	// Longest first, so a value containing another is masked whole.
	sort.Slice(c.secretValues, func(i, j int) bool {
		if len(c.secretValues[i]) != len(c.secretValues[j]) {
			return len(c.secretValues[i]) > len(c.secretValues[j])
		}
		return c.secretValues[i] < c.secretValues[j]
	})
	return c
}

func randomKey(o render.Object) string {
	id := object.IDOf(o.Object)
	return strings.Join([]string{o.Origin.Producer.String(), o.Origin.Template, id.Group, id.Kind, id.Namespace}, "\x00")
}

// randomTwin reports whether an object only one side has is one whose
// name comes from chart randomness, with a counterpart of the same
// template on the other side: the same object, renamed by the render.
func (c *comparer) randomTwin(b, h *render.Object) bool {
	if c.opts.KeepRandom || (b != nil && h != nil) {
		return false
	}
	o, other := b, 1
	if o == nil {
		o, other = h, 0
	}
	return slices.Contains(o.Origin.Random, "*") && c.randomNamed[other][randomKey(*o)] > 0
}

// producerID is the identity of the Flux object a producer reference
// names.
func producerID(ref flux.Ref) (object.ID, bool) {
	switch ref.Kind {
	case flux.KustomizationKind:
		return object.ID{Group: kustomizeGroup, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}, true
	case flux.HelmReleaseKind:
		return object.ID{Group: helmGroup, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}, true
	}
	return object.ID{}, false
}

// suspendedInHead reports whether head suspends the producer, so Flux
// stops applying (and pruning) what it rendered.
func (c *comparer) suspendedInHead(ref flux.Ref) bool {
	id, ok := producerID(ref)
	if !ok {
		return false
	}
	o, ok := c.head[id]
	if !ok {
		return false
	}
	s, _, _ := unstructured.NestedBool(o.Object.Object, "spec", "suspend")
	return s
}

// frozenNotes tells, on each producer head suspends, how many of the
// objects it rendered are left alone.
func (c *comparer) frozenNotes(r *Report) {
	for i := range r.Changes {
		ch := &r.Changes[i]
		for ref, n := range c.frozen {
			if id, _ := producerID(ref); id != ch.ID {
				continue
			}
			for j := range ch.Notes {
				if ch.Notes[j].Rule == NoteSuspend {
					what := "objects it applies stay in the cluster as they are"
					if n == 1 {
						what = "object it applies stays in the cluster as it is"
					}
					ch.Notes[j].Message += fmt.Sprintf(" (%d %s; not compared)", n, what)
				}
			}
		}
	}
}

func isSecret(id object.ID) bool { return id.Group == "" && id.Kind == "Secret" }

// secretData returns a Secret's values by key, data (base64 as written,
// decoded when it decodes) and stringData merged as the API server does;
// values of any other type are formatted, so a change still shows.
func secretData(obj map[string]any) map[string]string {
	out := map[string]string{}
	if d, err := secrets.Data(&unstructured.Unstructured{Object: obj}); err == nil {
		for k, v := range d {
			out[k] = string(v)
		}
		// Raw base64 too, so it is masked wherever it appears.
		if m, ok := obj["data"].(map[string]any); ok {
			for k, v := range m {
				out["\x00raw:"+k] = fmt.Sprint(v)
			}
		}
		return out
	}
	for _, f := range []string{"data", "stringData"} {
		if m, ok := obj[f].(map[string]any); ok {
			for k, v := range m {
				out[k] = fmt.Sprint(v)
			}
		}
	}
	return out
}

// compare compares one object of base with its head counterpart (either
// may be nil); ok is false when they do not differ.
func (c *comparer) compare(b, h *render.Object) (Change, bool) {
	var ch Change
	switch {
	case b == nil:
		ch = Change{ID: object.IDOf(h.Object), APIVersion: h.Object.GetAPIVersion(), Action: Added, Origin: h.Origin}
		ch.YAML = c.objectYAML(h)
	case h == nil && c.suspendedInHead(b.Origin.Producer):
		// Flux leaves what a suspended producer applied as it is: not a
		// removal. The producer's suspend note counts these.
		c.frozen[b.Origin.Producer]++
		return Change{}, false
	case h == nil:
		ch = Change{ID: object.IDOf(b.Object), APIVersion: b.Object.GetAPIVersion(), Action: Removed, Origin: b.Origin}
		ch.YAML = c.objectYAML(b)
	case b.Origin.Producer == h.Origin.Producer && reflect.DeepEqual(b.Object.Object, h.Object.Object):
		// Most objects are unchanged: no copy, no walk.
		return Change{}, false
	default:
		ch = Change{ID: object.IDOf(h.Object), APIVersion: h.Object.GetAPIVersion(), Action: Changed, Origin: h.Origin}
		if b.Origin.Producer != h.Origin.Producer {
			o := b.Origin
			ch.BaseOrigin = &o
		}
		ch.Fields = c.fields(b, h)
		if len(ch.Fields) == 0 && ch.BaseOrigin == nil {
			return Change{}, false
		}
	}
	ch.Notes = c.notes(b, h, &ch)
	return ch, true
}

// fields returns the field differences of two versions of one object.
func (c *comparer) fields(b, h *render.Object) []FieldDiff {
	id := object.IDOf(h.Object)
	random := c.randomPaths(b, h)
	bo, ho := c.clean(b.Object.Object, random), c.clean(h.Object.Object, random)
	var out []FieldDiff
	if isSecret(id) {
		// The cleaned copies: a value from chart randomness is no change.
		out = secretFields(bo, ho)
		for _, m := range []map[string]any{bo, ho} {
			delete(m, "data")
			delete(m, "stringData")
			// SOPS metadata changes with every edit; the keys tell.
			delete(m, "sops")
		}
	}
	w := walker{out: &out}
	w.walk("", bo, ho)
	kept := out[:0]
	for _, f := range out {
		if c.opts.matchField(id, f.Path) {
			continue
		}
		if !f.Masked {
			f.Old, f.New = c.mask(f.Old), c.mask(f.New)
		}
		kept = append(kept, f)
	}
	sort.SliceStable(kept, func(i, j int) bool { return pathLess(kept[i].Path, kept[j].Path) })
	return kept
}

// secretFields reports the keys of a Secret whose values were added,
// removed or changed, never the values.
func secretFields(b, h map[string]any) []FieldDiff {
	bd, hd := secretData(b), secretData(h)
	var out []FieldDiff
	for k, v := range bd {
		if strings.HasPrefix(k, "\x00") {
			continue
		}
		p := "data." + fieldpath.Key(k)
		switch hv, ok := hd[k]; {
		case !ok:
			out = append(out, FieldDiff{Path: p, Op: OpRemoved, Masked: true})
		case hv != v:
			out = append(out, FieldDiff{Path: p, Op: OpChanged, Masked: true})
		}
	}
	for k := range hd {
		if strings.HasPrefix(k, "\x00") {
			continue
		}
		if _, ok := bd[k]; !ok {
			out = append(out, FieldDiff{Path: "data." + fieldpath.Key(k), Op: OpAdded, Masked: true})
		}
	}
	return out
}

// mask replaces any Secret value in s.
func (c *comparer) mask(s string) string {
	for _, v := range c.secretValues {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, secrets.Mask)
		}
	}
	return s
}

// randomPaths are the fields the render marks as chart randomness in any
// of objs, none when they are kept.
func (c *comparer) randomPaths(objs ...*render.Object) map[string]bool {
	random := map[string]bool{}
	if c.opts.KeepRandom {
		return random
	}
	for _, o := range objs {
		for _, p := range o.Origin.Random {
			random[p] = true
		}
	}
	return random
}

// clean returns a deep copy of obj without noise: the random fields, then
// ignored labels and annotations on any metadata (pod templates too).
func (c *comparer) clean(obj map[string]any, random map[string]bool) map[string]any {
	out := runtime.DeepCopyJSON(obj)
	for p := range random {
		if p == "*" {
			continue
		}
		deletePath(out, p)
	}
	c.stripMetadata(out)
	return out
}

func (c *comparer) stripMetadata(v any) {
	switch t := v.(type) {
	case map[string]any:
		if md, ok := t["metadata"].(map[string]any); ok {
			for _, f := range []struct {
				field string
				kind  RuleKind
			}{{"labels", RuleLabel}, {"annotations", RuleAnnotation}} {
				m, ok := md[f.field].(map[string]any)
				if !ok {
					continue
				}
				for k := range m {
					if c.opts.matchKey(f.kind, k) {
						delete(m, k)
					}
				}
				if len(m) == 0 {
					delete(md, f.field)
				}
			}
		}
		for _, x := range t {
			c.stripMetadata(x)
		}
	case []any:
		for _, x := range t {
			c.stripMetadata(x)
		}
	}
}

// objectYAML is the whole object, noise stripped and secrets masked.
func (c *comparer) objectYAML(o *render.Object) string {
	obj := c.clean(o.Object.Object, c.randomPaths(o))
	if isSecret(object.IDOf(o.Object)) {
		for _, f := range []string{"data", "stringData"} {
			if m, ok := obj[f].(map[string]any); ok {
				for k := range m {
					m[k] = secrets.Mask
				}
			}
		}
	}
	y, err := object.MarshalYAML(obj)
	if err != nil {
		return fmt.Sprintf("# cannot show: %v\n", err)
	}
	return c.mask(string(y))
}

// walker collects field differences.
type walker struct{ out *[]FieldDiff }

func (w walker) add(p string, op Op, before, after any) {
	f := FieldDiff{Path: p, Op: op}
	if op != OpAdded {
		f.Old = formatValue(before)
	}
	if op != OpRemoved {
		f.New = formatValue(after)
	}
	*w.out = append(*w.out, f)
}

func join(prefix, key string) string {
	if prefix == "" {
		return fieldpath.Key(key)
	}
	return prefix + "." + fieldpath.Key(key)
}

func (w walker) walk(p string, a, b any) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		w.walkMaps(av, bv, func(k string) string { return join(p, k) })
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		if key := listKey(av, bv); key != "" {
			w.walkKeyed(p, key, av, bv)
			return
		}
		if !reflect.DeepEqual(av, bv) {
			w.add(p, OpChanged, av, bv)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		w.add(p, OpChanged, a, b)
	}
}

func (w walker) walkKeyed(p, key string, a, b []any) {
	byKey := func(l []any) map[string]any {
		m := map[string]any{}
		for _, x := range l {
			v, _ := itemKey(x.(map[string]any), key)
			m[scalarString(v)] = x
		}
		return m
	}
	w.walkMaps(byKey(a), byKey(b), func(k string) string { return fmt.Sprintf("%s[%s=%s]", p, key, k) })
}

// walkMaps compares two maps key by key, in key order; path names the
// field or list item of a key.
func (w walker) walkMaps(a, b map[string]any, path func(k string) string) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		x, inA := a[k]
		y, inB := b[k]
		switch {
		case !inA:
			w.add(path(k), OpAdded, nil, y)
		case !inB:
			w.add(path(k), OpRemoved, x, nil)
		default:
			w.walk(path(k), x, y)
		}
	}
}

// listKeys are the fields that name list items, in order of preference.
var listKeys = []string{"name", "metadata.name", "containerPort", "mountPath", "devicePath", "type", "port", "key", "ip", "topologyKey", "rule", "macro", "list"}

// listKey returns the field by which the items of both lists are named:
// every item a map holding it as a scalar, unique within each list.
func listKey(a, b []any) string {
	if len(a) == 0 && len(b) == 0 {
		return ""
	}
candidates:
	for _, key := range listKeys {
		for _, l := range [][]any{a, b} {
			seen := map[string]bool{}
			for _, x := range l {
				m, ok := x.(map[string]any)
				if !ok {
					return ""
				}
				v, ok := itemKey(m, key)
				if !ok || !isScalar(v) {
					continue candidates
				}
				s := scalarString(v)
				if seen[s] {
					continue candidates
				}
				seen[s] = true
			}
		}
		return key
	}
	return ""
}

// itemKey returns a list item's key field; "metadata.name" is nested
// (StatefulSet volumeClaimTemplates).
func itemKey(m map[string]any, key string) (any, bool) {
	if key == "metadata.name" {
		md, ok := m["metadata"].(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := md["name"]
		return v, ok
	}
	v, ok := m[key]
	return v, ok
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int64, int, float64:
		return true
	}
	return false
}

func scalarString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// formatValue renders a value as YAML: a scalar on one line, a multi-line
// string as it is, a map or list as a block.
func formatValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if strings.Contains(t, "\n") {
			return t
		}
		y, err := yaml.Marshal(t)
		if err != nil {
			return strconv.Quote(t)
		}
		return strings.TrimSuffix(string(y), "\n")
	case map[string]any, []any:
		y, err := yaml.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		s := string(y)
		if s == "{}\n" || s == "[]\n" {
			return strings.TrimSuffix(s, "\n")
		}
		return s
	}
	return fmt.Sprint(v)
}

// deletePath removes the field at a render Random path (list items by
// index) from obj, if it is there.
func deletePath(obj map[string]any, p string) {
	segs := fieldpath.Split(p)
	if len(segs) == 0 {
		return
	}
	var cur any = obj
	for n, s := range segs {
		last := n == len(segs)-1
		if strings.HasPrefix(s, "[") {
			l, ok := cur.([]any)
			i, err := strconv.Atoi(strings.Trim(s, "[]"))
			if !ok || err != nil || i < 0 || i >= len(l) {
				return
			}
			if last {
				// Keep positions: the item becomes null on both sides.
				l[i] = nil
				return
			}
			cur = l[i]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return
		}
		if last {
			delete(m, s)
			return
		}
		cur = m[s]
	}
}

// pathLess orders paths segment by segment, so a.b sorts before a.b.c
// and a[x] and their fields stay together.
func pathLess(a, b string) bool {
	as, bs := fieldpath.Split(a), fieldpath.Split(b)
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}
