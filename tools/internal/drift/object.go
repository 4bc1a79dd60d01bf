package drift

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/normalize"
	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/aks-gitops/platform/tools/internal/diff"
	"github.com/aks-gitops/platform/tools/internal/fieldpath"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/secrets"
)

// check decides it.res. A returned error means the object could not be
// evaluated (the API server failed); a rejection of the object is a result.
func (ch *checker) check(ctx context.Context, it *item) error {
	if ch.settled(it) {
		return nil
	}
	live, err := ch.live(ctx, it)
	if err != nil {
		return err
	}
	if optedOut(it, live) {
		return nil
	}
	if secrets.IsSOPS(it.desired) {
		return ch.compareSOPS(it, live)
	}
	return ch.dryRunCompare(ctx, it, live)
}

// skip sets the result to Skipped with a reason and reports true.
func (r *Result) skip(format string, args ...any) bool {
	r.Status, r.Reason = Skipped, fmt.Sprintf(format, args...)
	return true
}

// fail sets the result to Failed with a reason and reports true.
func (r *Result) fail(format string, args ...any) bool {
	r.Status, r.Reason = Failed, fmt.Sprintf(format, args...)
	return true
}

// settled decides, before asking the cluster, the objects no live object
// can be compared with: hooks, random names, objects no Flux object
// applies, kinds the cluster does not serve, a namespaced object without a
// namespace.
func (ch *checker) settled(it *item) bool {
	d, r := it.desired, &it.res
	switch {
	case it.obj.Origin.Hook:
		return r.skip("Helm hook (%s): run by Helm, not kept live", strings.Join(it.obj.Origin.HookEvents, ","))
	case slices.Contains(it.obj.Origin.Random, "*"):
		return r.skip("its name comes from chart randomness: no live object to compare with")
	case it.prod == nil:
		return r.skip("no Flux Kustomization or HelmRelease of the render applies it")
	case it.mapping == nil:
		gk := d.GroupVersionKind().GroupKind()
		if ch.crdKinds[gk] {
			r.Status = Created
			r.Notes = append(r.Notes, note(diff.Warning, "crd-in-render", "the kind is defined by a CustomResourceDefinition of the render, which Flux applies first; the object itself is checked by the API server only then"))
			return true
		}
		return r.fail("the cluster serves no %s in %s and the render has no CustomResourceDefinition for it", gk.Kind, d.GetAPIVersion())
	case it.mapping.Scope.Name() == meta.RESTScopeNameNamespace && d.GetNamespace() == "":
		return r.fail("%s is namespaced but the object has no metadata.namespace", d.GetKind())
	}
	return false
}

// optedOut applies what the Flux controllers read on the object (and
// helm-controller on its HelmRelease) to leave it alone or apply it only
// once.
func optedOut(it *item, live *unstructured.Unstructured) bool {
	d, r := it.desired, &it.res
	if it.prod.manager == flux.KustomizeController {
		switch {
		case flux.MetadataIs(flux.ReconcileKey, "disabled", d, live):
			return r.skip("%s: disabled", flux.ReconcileKey)
		case flux.MetadataIs(flux.SSAKey, "Ignore", d, live):
			return r.skip("%s: Ignore", flux.SSAKey)
		case flux.MetadataIs(flux.SSAKey, "IfNotPresent", d):
			if live != nil {
				return r.skip("%s: IfNotPresent and the object exists", flux.SSAKey)
			}
			r.Status = Created
			return true
		}
		return false
	}
	if live == nil {
		return false
	}
	if flux.MetadataIs(flux.HelmDriftKey, helmv2.DriftDetectionDisabledValue, d, live) {
		return r.skip("%s: disabled", flux.HelmDriftKey)
	}
	if it.prod.helmDrift == helmv2.DriftDetectionDisabled {
		return r.skip("%s has spec.driftDetection.mode disabled (the default): helm-controller does not compare its objects with the cluster", it.prod.ref)
	}
	return false
}

// dryRunCompare applies the object server-side as a dry run with the
// applying controller's field manager and compares the result with the
// live object.
func (ch *checker) dryRunCompare(ctx context.Context, it *item, live *unstructured.Unstructured) error {
	d, r := it.desired, &it.res
	dry := d.DeepCopy()
	utils.RemoveCABundleFromCRD(dry)
	if r := it.prod.release; r.name != "" && !it.obj.Origin.ChartCRD {
		setHelmMetadata(dry, r.name, r.namespace)
	}
	err := ch.cl.retry(ctx, func(ctx context.Context) error {
		var err error
		dry, err = ch.resource(it.mapping, d.GetNamespace()).Apply(ctx, d.GetName(), dry, metav1.ApplyOptions{
			FieldManager: it.prod.manager, Force: true, DryRun: []string{metav1.DryRunAll},
		})
		return err
	})
	if err != nil {
		return ch.dryRunFailed(it, live, err)
	}
	if dry.GetResourceVersion() == "" {
		r.Status = Created
		return nil
	}
	if live == nil || live.GetResourceVersion() != dry.GetResourceVersion() {
		// Changed since the list: compare with what the dry-run saw.
		if live, err = ch.get(ctx, it.mapping, d.GetNamespace(), d.GetName()); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if live == nil {
			r.Status = Created
			return nil
		}
	}
	return ch.compare(it, live, dry)
}

// dryRunFailed turns a rejected dry-run into a result, or returns the
// error when the API server failed rather than judged the object.
func (ch *checker) dryRunFailed(it *item, live *unstructured.Unstructured, err error) error {
	d, r := it.desired, &it.res
	if !isRejection(err) {
		return fmt.Errorf("dry-run apply: %w", err)
	}
	msg := maskSecretValues(d, serverMessage(err))
	if live == nil {
		var se apierrors.APIStatus
		if errors.As(err, &se) && apierrors.IsNotFound(err) {
			if det := se.Status().Details; det != nil && det.Kind == "namespaces" {
				// The namespace is not live. Flux applies Namespaces before
				// namespaced objects, so an object of a namespace the render
				// creates is created too (the server checks it only then).
				if ch.namespaces[d.GetNamespace()] {
					r.Status = Created
					r.Notes = append(r.Notes, note(diff.Warning, "namespace-in-render",
						fmt.Sprintf("namespace %s is not live yet: Flux creates it first; the object is checked by the API server only then", d.GetNamespace())))
					return nil
				}
				r.Status, r.Reason = Failed, fmt.Sprintf("namespace %s does not exist and the render does not create it", d.GetNamespace())
				return nil
			}
		}
		r.Status, r.Reason = Failed, "the API server rejects it: "+msg
		return nil
	}
	if !ssaerrors.IsImmutableError(err) {
		r.Status, r.Reason = Failed, "the API server rejects the change: "+msg
		return nil
	}
	// An immutable field change: the dry-run cannot show the result, so
	// the fields are those the render sets that differ from the live ones.
	r.Fields, r.Notes = ch.fields(it, clean(live), clean(overlay(live, d)))
	force := it.prod.manager == flux.KustomizeController && (it.prod.force || flux.MetadataIs(flux.ForceKey, "enabled", d, live))
	if force {
		r.Status = Drifted
		r.Notes = append(r.Notes, note(diff.Danger, "recreate",
			"immutable field change: Flux deletes the object and creates it again (force): "+msg))
		return nil
	}
	r.Status, r.Reason = Failed, "immutable field change, the API server rejects it: "+msg
	if it.prod.manager == flux.KustomizeController {
		r.Notes = append(r.Notes, note(diff.Warning, "force",
			fmt.Sprintf("Flux recreates such an object only with the annotation %s: enabled or spec.force on %s", flux.ForceKey, it.prod.ref)))
	}
	return nil
}

// isRejection reports whether err is the API server judging the object
// (invalid, conflicting, denied by admission, missing namespace) rather than
// failing to answer or refusing the caller's credentials.
func isRejection(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	switch se.Status().Code {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		return true
	case http.StatusForbidden:
		// RBAC says "User \"x\" cannot patch resource ..."; an admission
		// webhook or policy denial is about the object.
		m := se.Status().Message
		return !strings.Contains(m, " cannot ") || !strings.Contains(m, " resource \"")
	}
	return false
}

// serverMessage is the API server's message on one line.
func serverMessage(err error) string {
	var se apierrors.APIStatus
	msg := err.Error()
	if errors.As(err, &se) && se.Status().Message != "" {
		msg = se.Status().Message
	}
	return strings.Join(strings.Fields(msg), " ")
}

// maskSecretValues replaces in msg any value of the Secret u (decoded or as
// base64), so that a server message quoting one never shows it. The API
// server redacts Secret contents itself; this holds if it ever does not.
func maskSecretValues(u *unstructured.Unstructured, msg string) string {
	if u.GroupVersionKind().Group != "" || u.GetKind() != "Secret" {
		return msg
	}
	var values []string
	for _, f := range []string{"data", "stringData"} {
		m, _, _ := unstructured.NestedMap(u.Object, f)
		for _, v := range m {
			s, ok := v.(string)
			if !ok {
				continue
			}
			values = append(values, s)
			if b, err := base64.StdEncoding.DecodeString(s); f == "data" && err == nil {
				values = append(values, string(b))
			}
		}
	}
	// Longest first, so a value containing another is masked whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		if len(v) >= 4 {
			msg = strings.ReplaceAll(msg, v, secrets.Mask)
		}
	}
	return msg
}

// compare sets it.res from the live object and the dry-run result.
func (ch *checker) compare(it *item, live, dry *unstructured.Unstructured) error {
	paths, whole := it.prod.ignoredPaths(dry)
	if whole {
		it.res.Status, it.res.Reason = Skipped, fmt.Sprintf("an ignore rule of %s covers the whole object", it.prod.ref)
		return nil
	}
	// live may be shared with another item (one object rendered by two
	// producers): copied. dry is this item's own.
	l, n := clean(live), dry
	stripServerFields(n)
	if len(paths) > 0 {
		sort.Sort(sort.Reverse(sort.StringSlice(paths))) // later list items first
		patch := jsondiff.GenerateRemovePatch(paths...)
		for _, u := range []*unstructured.Unstructured{l, n} {
			if err := jsondiff.ApplyPatchToUnstructured(u, patch); err != nil {
				return fmt.Errorf("ignore rules of %s: %w", it.prod.ref, err)
			}
		}
	}
	// Known dry-run quirks (an HPA's duplicated metric); a failure leaves
	// the object as it is.
	_ = normalize.DryRunUnstructured(l)
	_ = normalize.DryRunUnstructured(n)
	if equality.Semantic.DeepEqual(l.Object, n.Object) {
		// The common case, without the diff engine's work.
		it.res.Status = Unchanged
		return nil
	}
	it.res.Fields, it.res.Notes = ch.fields(it, l, n)
	it.res.Fields, it.res.Notes = unknowable(it.res.Fields, it.res.Notes)
	if len(it.res.Fields) == 0 {
		it.res.Status = Unchanged
		return nil
	}
	it.res.Status = Drifted
	if it.prod.manager == flux.HelmController && it.prod.helmDrift == helmv2.DriftDetectionWarn {
		it.res.Notes = append(it.res.Notes, note(diff.Warning, "drift-warn",
			fmt.Sprintf("%s has spec.driftDetection.mode warn: helm-controller reports this drift but does not correct it", it.prod.ref)))
	}
	return nil
}

// unknowable drops the field differences whose rendered value holds a
// Secret placeholder: the render substituted a value from a Secret it does
// not read, so the live value (the real one) cannot be compared, and must
// not be printed. A note says how many were left out.
func unknowable(fields []diff.FieldDiff, notes []diff.Note) ([]diff.FieldDiff, []diff.Note) {
	n := len(fields)
	kept := slices.DeleteFunc(fields, func(f diff.FieldDiff) bool { return secrets.HasPlaceholder(f.New) })
	if left := n - len(kept); left > 0 {
		notes = append(notes, note(diff.Warning, "secret-substitution",
			fmt.Sprintf("%d field(s) substitute a Secret value the render does not read: not compared", left)))
	}
	return kept, notes
}

// fields compares live and desired, both cleaned, with the diff engine:
// Secret values masked, chart randomness and noise left out.
func (ch *checker) fields(it *item, live, desired *unstructured.Unstructured) ([]diff.FieldDiff, []diff.Note) {
	rep := diff.Compare(
		[]render.Object{{Object: live, Origin: it.obj.Origin}},
		[]render.Object{{Object: desired, Origin: it.obj.Origin}},
		ch.opts.Diff)
	if !rep.Changed() {
		return nil, nil
	}
	c := rep.Changes[0]
	var notes []diff.Note
	for _, n := range c.Notes {
		// The dry-run, not a list of fields, says whether a change is
		// immutable: dryRunFailed notes it.
		if n.Rule != diff.NoteImmutable {
			notes = append(notes, n)
		}
	}
	return c.Fields, notes
}

// serverFields are set by the API server and differ between the live
// object and any dry-run of it.
var serverFields = []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"}

// clean returns a copy of u without server-set noise and status.
func clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := u.DeepCopy()
	stripServerFields(out)
	return out
}

// stripServerFields removes server-set noise and status from u.
func stripServerFields(u *unstructured.Unstructured) {
	for _, f := range serverFields {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(u.Object, "status")
}

// overlay returns live with every field desired sets replaced by desired's
// value: what the apply asks for, when the server cannot say what it would
// make of it. Maps are merged, and so are lists of maps of the same length
// item by item, so fields the server defaulted (a container's
// imagePullPolicy) do not show as removed; other values are replaced.
func overlay(live, desired *unstructured.Unstructured) *unstructured.Unstructured {
	out := live.DeepCopy()
	mergeMap(out.Object, runtime.DeepCopyJSON(desired.Object))
	return out
}

func mergeMap(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = mergeValue(dst[k], v)
	}
}

func mergeValue(dst, src any) any {
	switch s := src.(type) {
	case map[string]any:
		if d, ok := dst.(map[string]any); ok {
			mergeMap(d, s)
			return d
		}
	case []any:
		d, ok := dst.([]any)
		if !ok || len(d) != len(s) {
			return src
		}
		for i := range s {
			sm, ok1 := s[i].(map[string]any)
			dm, ok2 := d[i].(map[string]any)
			if !ok1 || !ok2 {
				return src
			}
			mergeMap(dm, sm)
		}
		return d
	}
	return src
}

// compareSOPS compares a SOPS-encrypted Secret with the live one by keys:
// its values are ciphertext until Flux decrypts them.
func (ch *checker) compareSOPS(it *item, live *unstructured.Unstructured) error {
	r := &it.res
	sopsNote := note(diff.Warning, "sops", "SOPS-encrypted in the repository: compared by keys only")
	r.Notes = append(r.Notes, sopsNote)
	if live == nil {
		r.Status = Created
		return nil
	}
	want := map[string]bool{}
	for _, f := range []string{"data", "stringData"} {
		m, _, _ := unstructured.NestedMap(it.desired.Object, f)
		for k := range m {
			want[k] = true
		}
	}
	have := map[string]bool{}
	m, _, _ := unstructured.NestedMap(live.Object, "data")
	for k := range m {
		have[k] = true
	}
	for k := range want {
		if !have[k] {
			r.Fields = append(r.Fields, diff.FieldDiff{Path: "data." + fieldpath.Key(k), Op: diff.OpAdded, Masked: true})
		}
	}
	for k := range have {
		if !want[k] {
			r.Fields = append(r.Fields, diff.FieldDiff{Path: "data." + fieldpath.Key(k), Op: diff.OpRemoved, Masked: true})
		}
	}
	sort.Slice(r.Fields, func(i, j int) bool { return r.Fields[i].Path < r.Fields[j].Path })
	if len(r.Fields) > 0 {
		r.Status = Drifted
	} else {
		r.Status = Unchanged
	}
	return nil
}

// The metadata Helm sets on every object of a release's manifest as it
// creates it (helm.sh/helm/v4 pkg/action, the release's ownership), which
// the chart's templates do not render; CRDs of the chart's crds/ folders,
// created apart from the manifest, do not get it. helm-controller adds it to
// the manifest's objects before comparing them with the cluster
// (internal/action/diff.go, setHelmMetadata); so does the live diff.
const (
	helmManagedByLabel      = "app.kubernetes.io/managed-by"
	helmReleaseNameKey      = "meta.helm.sh/release-name"
	helmReleaseNamespaceKey = "meta.helm.sh/release-namespace"
	helmManagedByLabelValue = "Helm"
)

// setHelmMetadata sets Helm's ownership metadata of the release name in
// namespace on u.
func setHelmMetadata(u *unstructured.Unstructured, name, namespace string) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[helmManagedByLabel] = helmManagedByLabelValue
	u.SetLabels(labels)
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[helmReleaseNameKey] = name
	annotations[helmReleaseNamespaceKey] = namespace
	u.SetAnnotations(annotations)
}
