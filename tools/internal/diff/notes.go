package diff

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// Note rules.
const (
	NoteImmutable    = "immutable-field"
	NotePrune        = "prune"
	NoteChartMajor   = "chart-major"
	NoteSuspend      = "suspend"
	NoteEnforcement  = "enforcement-loosened"
	NoteFalcoRule    = "falco-rule"
	NoteProducer     = "producer-moved"
	NoteResize       = "volume-shrink"
	fluxGroupSuffix  = ".toolkit.fluxcd.io"
	kustomizeGroup   = "kustomize.toolkit.fluxcd.io"
	helmGroup        = "helm.toolkit.fluxcd.io"
	constraintsGroup = "constraints.gatekeeper.sh"
)

// immutable lists, per group/kind, the field paths the API server refuses
// to change (a prefix matches the fields below it).
var immutable = map[string][]string{
	"apps/Deployment":  {"spec.selector"},
	"apps/ReplicaSet":  {"spec.selector"},
	"apps/DaemonSet":   {"spec.selector"},
	"apps/StatefulSet": {"spec.selector", "spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"},
	"batch/Job":        {"spec.selector", "spec.template", "spec.completionMode"},
	"/Service":         {"spec.clusterIP", "spec.clusterIPs"},
	"/PersistentVolumeClaim": {
		"spec.storageClassName", "spec.accessModes", "spec.volumeName", "spec.volumeMode",
		"spec.selector", "spec.dataSource", "spec.dataSourceRef",
	},
	"storage.k8s.io/StorageClass":                  {"provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"},
	"rbac.authorization.k8s.io/RoleBinding":        {"roleRef"},
	"rbac.authorization.k8s.io/ClusterRoleBinding": {"roleRef"},
}

// loudDeletions are the kinds whose deletion takes more with it.
var loudDeletions = map[string]string{
	"/PersistentVolumeClaim": "deleting a PersistentVolumeClaim deletes its volume and data when the reclaim policy is Delete (the AKS default)",
	"/Namespace":             "deleting a Namespace deletes everything in it",
	"apiextensions.k8s.io/CustomResourceDefinition": "deleting a CustomResourceDefinition deletes every object of its kind in the cluster",
}

func groupKind(id object.ID) string { return id.Group + "/" + id.Kind }

func hasPrefixPath(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+".") || strings.HasPrefix(p, prefix+"[")
}

// notes returns the notes on one change (b or h nil for added or removed).
func (c *comparer) notes(b, h *render.Object, ch *Change) []Note {
	var out []Note
	switch ch.Action {
	case Removed:
		out = append(out, c.pruneNotes(b, ch)...)
	case Changed:
		out = append(out, immutableNotes(b, ch)...)
		out = append(out, shrinkNotes(b, h, ch)...)
		out = append(out, chartMajorNotes(b, h, ch)...)
		out = append(out, c.chartRefMajorNotes(b, h, ch)...)
		out = append(out, suspendNotes(b, h, ch)...)
		out = append(out, enforcementNotes(b, h, ch)...)
		if ch.BaseOrigin != nil {
			out = append(out, Note{Level: Warning, Rule: NoteProducer, Message: fmt.Sprintf(
				"moves from %s to %s: if %s prunes, it may delete the object the other applies; move it in two steps or mark it kustomize.toolkit.fluxcd.io/prune: disabled first",
				ch.BaseOrigin.Producer, ch.Origin.Producer, ch.BaseOrigin.Producer)})
		}
	}
	if ch.ID.Group == constraintsGroup && ch.Action == Removed {
		out = append(out, Note{Level: Danger, Rule: NoteEnforcement, Message: "Gatekeeper constraint removed: its policy is no longer enforced"})
	}
	return out
}

// pruneNotes says whether and how a removed object is deleted.
func (c *comparer) pruneNotes(b *render.Object, ch *Change) []Note {
	// deleted is the note on a deletion: danger for the kinds whose
	// deletion takes more with it.
	deleted := func(msg string) []Note {
		if loud, ok := loudDeletions[groupKind(ch.ID)]; ok {
			return []Note{{Level: Danger, Rule: NotePrune, Message: msg + ": " + loud}}
		}
		return []Note{{Level: Warning, Rule: NotePrune, Message: msg}}
	}
	prod := b.Origin.Producer
	switch flux.KeptBy(prod.Kind, b.Object) {
	case flux.PruneKey:
		return []Note{{Level: Warning, Rule: NotePrune, Message: "not deleted: the object is marked " + flux.PruneKey + ": disabled and stays in the cluster, unmanaged"}}
	case flux.HelmKeepKey:
		return []Note{{Level: Warning, Rule: NotePrune, Message: "not deleted: " + flux.HelmKeepKey + ": keep leaves it in the cluster, unmanaged"}}
	}
	if prod.Kind == flux.HelmReleaseKind {
		return deleted(fmt.Sprintf("%s deletes it on upgrade (or uninstall)", prod))
	}
	ks, found := c.producer(prod)
	if found {
		prune, _, _ := unstructured.NestedBool(ks.Object.Object, "spec", "prune")
		if !prune {
			return []Note{{Level: Warning, Rule: NotePrune, Message: fmt.Sprintf("not deleted: %s has prune: false, so it stays in the cluster, unmanaged", prod)}}
		}
		return deleted(fmt.Sprintf("prune deletes it (%s has prune: true)", prod))
	}
	return deleted(fmt.Sprintf("deleted if %s has prune: true (it is not in the render)", prod))
}

// producer finds the producing Flux Kustomization, as head has it (its
// prune setting then), else as base had it.
func (c *comparer) producer(ref flux.Ref) (render.Object, bool) {
	id, ok := producerID(ref)
	if !ok {
		return render.Object{}, false
	}
	if o, ok := c.head[id]; ok {
		return o, true
	}
	o, ok := c.base[id]
	return o, ok
}

func immutableNotes(b *render.Object, ch *Change) []Note {
	if ch.Origin.Hook {
		// Helm deletes a hook before creating it again (the default
		// before-hook-creation policy): nothing is updated in place.
		return nil
	}
	forced := strings.EqualFold(b.Object.GetAnnotations()["kustomize.toolkit.fluxcd.io/force"], "enabled")
	var out []Note
	seen := map[string]bool{}
	for _, prefix := range immutable[groupKind(ch.ID)] {
		for _, f := range ch.Fields {
			if !hasPrefixPath(f.Path, prefix) || seen[prefix] {
				continue
			}
			seen[prefix] = true
			msg := fmt.Sprintf("%s is immutable on a %s: the apply fails; Flux replaces the object only with force: true (delete, then create)", prefix, ch.ID.Kind)
			switch groupKind(ch.ID) {
			case "/PersistentVolumeClaim":
				msg += ", which for a PersistentVolumeClaim means a new, empty volume"
			case "apps/StatefulSet":
				if prefix == "spec.volumeClaimTemplates" {
					msg += "; existing claims keep their old spec"
				}
			}
			if forced {
				out = append(out, Note{Level: Warning, Rule: NoteImmutable, Path: prefix, Message: fmt.Sprintf(
					"%s is immutable on a %s: Flux deletes and recreates the object (kustomize.toolkit.fluxcd.io/force: enabled)", prefix, ch.ID.Kind)})
				continue
			}
			out = append(out, Note{Level: Danger, Rule: NoteImmutable, Path: prefix, Message: msg})
		}
	}
	if immutableData, _, _ := unstructured.NestedBool(b.Object.Object, "immutable"); immutableData && (ch.ID.Kind == "ConfigMap" || ch.ID.Kind == "Secret") && ch.ID.Group == "" {
		for _, f := range ch.Fields {
			if hasPrefixPath(f.Path, "data") || hasPrefixPath(f.Path, "binaryData") || hasPrefixPath(f.Path, "stringData") {
				out = append(out, Note{Level: Danger, Rule: NoteImmutable, Path: "data", Message: fmt.Sprintf(
					"the %s is immutable: true, so its data cannot change: the apply fails (give it a new name)", ch.ID.Kind)})
				break
			}
		}
	}
	return out
}

// shrinkNotes: a PersistentVolumeClaim's storage request can only grow.
func shrinkNotes(b, h *render.Object, ch *Change) []Note {
	if groupKind(ch.ID) != "/PersistentVolumeClaim" {
		return nil
	}
	old, _, _ := unstructured.NestedString(b.Object.Object, "spec", "resources", "requests", "storage")
	cur, _, _ := unstructured.NestedString(h.Object.Object, "spec", "resources", "requests", "storage")
	ob, err1 := resource.ParseQuantity(old)
	nb, err2 := resource.ParseQuantity(cur)
	if err1 == nil && err2 == nil && nb.Cmp(ob) < 0 {
		return []Note{{Level: Danger, Rule: NoteResize, Path: "spec.resources.requests.storage", Message: fmt.Sprintf(
			"storage request shrinks from %s to %s: a volume can only grow, the apply fails", old, cur)}}
	}
	return nil
}

func chartMajorNotes(b, h *render.Object, ch *Change) []Note {
	if ch.ID.Kind != flux.HelmReleaseKind || !strings.HasSuffix(ch.ID.Group, fluxGroupSuffix) {
		return nil
	}
	old, _, _ := unstructured.NestedString(b.Object.Object, "spec", "chart", "spec", "version")
	cur, _, _ := unstructured.NestedString(h.Object.Object, "spec", "chart", "spec", "version")
	chart, _, _ := unstructured.NestedString(h.Object.Object, "spec", "chart", "spec", "chart")
	om, ok1 := major(old)
	nm, ok2 := major(cur)
	if !ok1 || !ok2 || om == nm {
		return nil
	}
	return []Note{{Level: Danger, Rule: NoteChartMajor, Path: "spec.chart.spec.version", Message: fmt.Sprintf(
		"chart %s changes major version %s → %s: read its upgrade notes (values renamed, CRDs, breaking defaults)", chart, old, cur)}}
}

// chartRefMajorNotes: an OCIRepository a HelmRelease takes its chart from
// (spec.chartRef) changes the major version of its tag or semver range.
func (c *comparer) chartRefMajorNotes(b, h *render.Object, ch *Change) []Note {
	if ch.ID.Kind != flux.OCIRepositoryKind || !strings.HasSuffix(ch.ID.Group, fluxGroupSuffix) {
		return nil
	}
	var users []string
	for id, o := range c.head {
		if id.Kind != flux.HelmReleaseKind || id.Group != helmGroup {
			continue
		}
		kind, _, _ := unstructured.NestedString(o.Object.Object, "spec", "chartRef", "kind")
		name, _, _ := unstructured.NestedString(o.Object.Object, "spec", "chartRef", "name")
		ns, _, _ := unstructured.NestedString(o.Object.Object, "spec", "chartRef", "namespace")
		if ns == "" {
			ns = id.Namespace
		}
		if kind == flux.OCIRepositoryKind && name == ch.ID.Name && ns == ch.ID.Namespace {
			users = append(users, id.Namespace+"/"+id.Name)
		}
	}
	if len(users) == 0 {
		return nil
	}
	sort.Strings(users)
	for _, field := range []string{"tag", "semver"} {
		old, _, _ := unstructured.NestedString(b.Object.Object, "spec", "ref", field)
		cur, _, _ := unstructured.NestedString(h.Object.Object, "spec", "ref", field)
		om, ok1 := major(strings.TrimLeft(old, "^~=>< "))
		nm, ok2 := major(strings.TrimLeft(cur, "^~=>< "))
		if ok1 && ok2 && om != nm {
			return []Note{{Level: Danger, Rule: NoteChartMajor, Path: "spec.ref." + field, Message: fmt.Sprintf(
				"the chart of HelmRelease %s changes major version %s → %s: read its upgrade notes (values renamed, CRDs, breaking defaults)",
				strings.Join(users, ", "), old, cur)}}
		}
	}
	return nil
}

// major returns the major version of an exact version (1.2.3, v1.2); ranges
// have none.
func major(v string) (int, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	m, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(m)
	return n, err == nil && m != ""
}

func suspendNotes(b, h *render.Object, ch *Change) []Note {
	if !strings.HasSuffix(ch.ID.Group, fluxGroupSuffix) {
		return nil
	}
	old, _, _ := unstructured.NestedBool(b.Object.Object, "spec", "suspend")
	cur, _, _ := unstructured.NestedBool(h.Object.Object, "spec", "suspend")
	switch {
	case !old && cur:
		return []Note{{Level: Danger, Rule: NoteSuspend, Path: "spec.suspend", Message: fmt.Sprintf(
			"suspends %s: Flux stops reconciling it, so this and later changes to what it applies do not reach the cluster", ch.ID.Kind)}}
	case old && !cur:
		return []Note{{Level: Warning, Rule: NoteSuspend, Path: "spec.suspend", Message: fmt.Sprintf(
			"resumes %s: every change made while it was suspended is applied now", ch.ID.Kind)}}
	}
	return nil
}

func enforcementNotes(b, h *render.Object, ch *Change) []Note {
	if ch.ID.Group != constraintsGroup {
		return nil
	}
	action := func(o *render.Object) string {
		a, _, _ := unstructured.NestedString(o.Object.Object, "spec", "enforcementAction")
		if a == "" {
			a = "deny"
		}
		return strings.ToLower(a)
	}
	old, cur := action(b), action(h)
	or, nr := finding.Strictness(old), finding.Strictness(cur)
	ok1, ok2 := or > 0, nr > 0
	if ok1 && ok2 && nr < or {
		return []Note{{Level: Danger, Rule: NoteEnforcement, Path: "spec.enforcementAction", Message: fmt.Sprintf(
			"enforcement loosened %s → %s: violating objects are admitted", old, cur)}}
	}
	if ok1 && !ok2 && or > 1 {
		return []Note{{Level: Warning, Rule: NoteEnforcement, Path: "spec.enforcementAction", Message: fmt.Sprintf(
			"enforcement changes %s → %s: check the scoped actions still deny", old, cur)}}
	}
	return nil
}

// falcoRule is a Falco rule as one side's ConfigMaps define it.
type falcoRule struct {
	holder   object.ID
	defined  bool // has a condition (not only an override)
	disabled bool
}

// falcoRules collects the Falco rules in the ConfigMaps of one side: data
// values that are Falco rule files (YAML lists of rule, macro and list
// items). The last item naming a rule decides whether it is enabled.
func falcoRules(objs map[object.ID]render.Object) map[string]falcoRule {
	out := map[string]falcoRule{}
	ids := make([]object.ID, 0, len(objs))
	for id := range objs {
		if id.Group == "" && id.Kind == "ConfigMap" {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, object.Compare)
	for _, id := range ids {
		data, _, _ := unstructured.NestedStringMap(objs[id].Object.Object, "data")
		for _, k := range slices.Sorted(maps.Keys(data)) {
			for _, it := range falcoItems(data[k]) {
				name, ok := it["rule"].(string)
				if !ok {
					continue
				}
				r := out[name]
				r.holder = id
				if _, ok := it["condition"]; ok {
					r.defined = true
				}
				if e, ok := it["enabled"].(bool); ok {
					r.disabled = !e
				}
				out[name] = r
			}
		}
	}
	return out
}

// falcoItems parses a Falco rules file; anything else yields nothing.
func falcoItems(s string) []map[string]any {
	if !strings.Contains(s, "rule:") && !strings.Contains(s, "macro:") {
		return nil
	}
	var items []map[string]any
	if err := yaml.Unmarshal([]byte(s), &items); err != nil {
		return nil
	}
	for _, it := range items {
		if _, ok := it["rule"]; ok {
			continue
		}
		if _, ok := it["macro"]; ok {
			continue
		}
		if _, ok := it["list"]; ok {
			continue
		}
		if _, ok := it["required_engine_version"]; ok {
			continue
		}
		if _, ok := it["required_plugin_versions"]; ok {
			continue
		}
		return nil
	}
	return items
}

// falcoNotes adds to the report a note for every Falco rule that base
// enables and head removes or disables, on the ConfigMap that held (or now
// disables) it. Rules are compared across all ConfigMaps, so a rule moved
// from one file to another is not a removal.
func (c *comparer) falcoNotes(r *Report) {
	base, head := falcoRules(c.base), falcoRules(c.head)
	for _, name := range slices.Sorted(maps.Keys(base)) {
		b := base[name]
		if b.disabled {
			continue
		}
		h, ok := head[name]
		var holder object.ID
		var msg string
		switch {
		case !ok && b.defined:
			holder, msg = b.holder, fmt.Sprintf("Falco rule %q removed: the events it detected no longer alert", name)
		case ok && h.disabled:
			holder, msg = h.holder, falcoDisabled(name)
		default:
			continue
		}
		r.addNote(holder, Note{Level: Danger, Rule: NoteFalcoRule, Message: msg})
	}
	// Stock rules disabled by a new override: head disables a rule base
	// does not mention.
	for _, name := range slices.Sorted(maps.Keys(head)) {
		h := head[name]
		if _, ok := base[name]; ok || !h.disabled {
			continue
		}
		r.addNote(h.holder, Note{Level: Danger, Rule: NoteFalcoRule, Message: falcoDisabled(name)})
	}
}

func falcoDisabled(rule string) string {
	return fmt.Sprintf("Falco rule %q disabled (enabled: false): the events it detected no longer alert", rule)
}

// addNote adds a note to the change of the object id, if there is one.
func (r *Report) addNote(id object.ID, n Note) {
	for i := range r.Changes {
		if r.Changes[i].ID == id {
			r.Changes[i].Notes = append(r.Changes[i].Notes, n)
			return
		}
	}
}
