// Package policy evaluates a rendered cluster against the Gatekeeper
// ConstraintTemplates and constraints that its own render contains, with
// Gatekeeper's engine used as a library: the constraint framework client
// with the Kubernetes-native (CEL) and Rego drivers, wired the way
// Gatekeeper's admission webhook wires them, and asked the question the
// webhook is asked. It also runs gator suites (see Verify).
package policy

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/frameworks/constraint/pkg/types"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/expansion"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/expand"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/reader"
	mutationtypes "github.com/open-policy-agent/gatekeeper/v3/pkg/mutation/types"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/target"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/util"
	"golang.org/x/sync/errgroup"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	ktypes "k8s.io/apimachinery/pkg/types"

	"github.com/aks-gitops/platform/tools/internal/finding"
	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/object"
	"github.com/aks-gitops/platform/tools/internal/render"
)

// Check is the finding.Finding Check of every policy finding.
const Check = "policy"

// Options tune an evaluation.
type Options struct {
	// Concurrency bounds the objects reviewed at once (default GOMAXPROCS).
	Concurrency int
	// Scope limits the objects reviewed (nil: all); every object is still
	// the engine's inventory, as the cluster holds them all.
	Scope *render.Scope
}

// Result is the evaluation of one cluster.
type Result struct {
	Findings []finding.Finding
	// Templates and Constraints are what the render contained and the
	// engine compiled.
	Templates   int
	Constraints int
	// Objects were reviewed; Skipped the webhook would never see
	// (exempt or excluded namespaces).
	Objects int
	Skipped int
	// Inventory is the number of objects given to the engine as
	// data.inventory.
	Inventory int
	// AssumedNamespaces are namespaces objects live in that the render does
	// not define: they are taken to exist with only the label the API
	// server sets on every namespace (kubernetes.io/metadata.name).
	AssumedNamespaces []string
}

// Run reviews every object of c against the ConstraintTemplates and
// constraints c contains, as Gatekeeper's admission webhook would, and
// returns one finding per violation, with the counts. An error means the
// cluster could not be evaluated (a template that does not compile, a
// constraint without its template, an object the engine rejects).
func Run(ctx context.Context, c *render.Cluster, opts Options) (res *Result, err error) {
	// The engine is third-party code fed with user input: a panic in it is
	// an error naming the cluster, not a crash.
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("gatekeeper engine panicked: %v", p)
		}
	}()
	objects := engineCopies(c.Objects())
	res = &Result{}
	var templates, constraints []render.Object
	for _, o := range objects {
		switch {
		case reader.IsTemplate(o.Object):
			templates = append(templates, o)
		case reader.IsConstraint(o.Object):
			constraints = append(constraints, o)
		}
	}
	if len(templates) == 0 && len(constraints) == 0 {
		return res, nil
	}
	settings, err := readSettings(objects)
	if err != nil {
		return nil, err
	}
	engine, err := loadEngine(ctx, settings, templates, constraints)
	if err != nil {
		return nil, err
	}
	res.Templates, res.Constraints = len(templates), len(constraints)
	if res.Inventory, err = addInventory(ctx, engine, settings, objects); err != nil {
		return nil, err
	}
	if err := reviewAll(ctx, c.Path, engine, settings, objects, constrainedKinds(constraints), opts, res); err != nil {
		return nil, err
	}
	res.AssumedNamespaces = settings.assumedNamespaces()
	finding.Sort(res.Findings)
	return res, nil
}

// loadEngine builds the engine the webhook would run and adds the
// templates and constraints to it.
func loadEngine(ctx context.Context, settings *settings, templates, constraints []render.Object) (*constraintclient.Client, error) {
	engine, err := newClient(settings)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		templ, err := reader.ToTemplate(gkScheme, t.Object)
		if err != nil {
			return nil, fmt.Errorf("ConstraintTemplate %s (%s): %w", t.Object.GetName(), t.Origin, err)
		}
		if _, err := engine.AddTemplate(ctx, templ); err != nil {
			return nil, fmt.Errorf("ConstraintTemplate %s (%s): %w", t.Object.GetName(), t.Origin, err)
		}
	}
	for _, k := range constraints {
		if _, err := engine.AddConstraint(ctx, k.Object); err != nil {
			return nil, fmt.Errorf("constraint %s/%s (%s): %w", k.Object.GetKind(), k.Object.GetName(), k.Origin, err)
		}
	}
	return engine, nil
}

// addInventory gives the engine the objects the cluster's sync settings
// replicate as data.inventory, and returns how many.
func addInventory(ctx context.Context, engine *constraintclient.Client, settings *settings, objects []render.Object) (int, error) {
	n := 0
	for _, o := range objects {
		if !settings.synced(o.Object) {
			continue
		}
		if _, err := engine.AddData(ctx, o.Object); err != nil {
			return 0, fmt.Errorf("inventory: %s (%s): %w", flux.RefOf(o.Object), o.Origin, err)
		}
		n++
	}
	return n, nil
}

// reviewAll reviews, in parallel, every object the webhook sees (and what
// it expands to), adding the counts and findings to res.
func reviewAll(ctx context.Context, cluster string, engine reviewer, settings *settings, objects []render.Object, kinds kindSet, opts Options, res *Result) error {
	all := make([]*unstructured.Unstructured, len(objects))
	for i, o := range objects {
		all[i] = o.Object
	}
	expander, err := expand.NewExpander(all)
	if err != nil {
		return fmt.Errorf("expansion templates: %w", err)
	}
	limit := opts.Concurrency
	if limit < 1 {
		limit = runtime.GOMAXPROCS(0)
	}
	// Each object's findings go to its own slot: no locks.
	perObject := make([][]finding.Finding, len(objects))
	// The expander keeps mutable state without a lock of its own (the
	// webhook builds one expansion per request); one at a time.
	var expandMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, o := range objects {
		if !opts.Scope.Object(o) {
			continue
		}
		ns, sees := settings.webhookSees(o.Object)
		if !sees {
			res.Skipped++
			continue
		}
		res.Objects++
		g.Go(func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("review %s (%s): gatekeeper engine panicked: %v", flux.RefOf(o.Object), o.Origin, p)
				}
			}()
			resultants, err := func() ([]*expansion.Resultant, error) {
				expandMu.Lock()
				defer expandMu.Unlock()
				return expander.Expand(o.Object)
			}()
			if err != nil {
				return fmt.Errorf("expand %s (%s): %w", flux.RefOf(o.Object), o.Origin, err)
			}
			if len(resultants) == 0 && !kinds.matches(o.Object) {
				// No constraint lists this kind: the engine's answer is
				// known to be empty, and asking it would decode the object
				// once per constraint (CRDs are large).
				return nil
			}
			resp, err := review(gctx, engine, o, ns, resultants)
			if err != nil {
				return fmt.Errorf("review %s (%s): %w", flux.RefOf(o.Object), o.Origin, err)
			}
			perObject[i] = findings(cluster, o, resp)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, found := range perObject {
		res.Findings = append(res.Findings, found...)
	}
	return nil
}

// review asks the engine what the webhook would answer for a CREATE of
// o by the Flux controller that applies it, then for what the object
// expands to (ExpansionTemplates), as the webhook does.
func review(ctx context.Context, engine reviewer, o render.Object, ns *corev1.Namespace, resultants []*expansion.Resultant) (*types.Responses, error) {
	raw, err := o.Object.MarshalJSON()
	if err != nil {
		return nil, err
	}
	gvk := o.Object.GroupVersionKind()
	req := &admissionv1.AdmissionRequest{
		UID:       ktypes.UID("tools-policy"),
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Name:      o.Object.GetName(),
		Namespace: o.Object.GetNamespace(),
		Operation: admissionv1.Create,
		UserInfo:  authenticationv1.UserInfo{Username: applier(o.Origin.Producer)},
		Object:    kruntime.RawExtension{Raw: raw},
	}
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		// The webhook clears the namespace of a Namespace request.
		req.Namespace = ""
		ns = nil
	}
	opts := []reviews.ReviewOpt{reviews.EnforcementPoint(util.WebhookEnforcementPoint)}
	if ns != nil {
		nsMap, err := util.NamespaceToMap(ns)
		if err != nil {
			return nil, err
		}
		opts = append(opts, reviews.Namespace(nsMap))
	}
	resp, err := engine.Review(ctx, &target.AugmentedReview{
		AdmissionRequest: req,
		Namespace:        ns,
		Source:           mutationtypes.SourceTypeOriginal,
		IsAdmission:      true,
	}, opts...)
	if err != nil {
		return nil, err
	}
	for _, r := range resultants {
		rr, err := engine.Review(ctx, &target.AugmentedUnstructured{
			Object:    *r.Obj,
			Namespace: ns,
			Operation: admissionv1.Create,
			Source:    mutationtypes.SourceTypeGenerated,
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("expanded %s %s: %w", r.Obj.GetKind(), r.Obj.GetName(), err)
		}
		expansion.OverrideEnforcementAction(r.EnforcementAction, rr)
		expansion.AggregateResponses(r.TemplateName, resp, rr)
	}
	return resp, nil
}

// applier is the user Flux applies an object as: kustomize-controller or
// helm-controller's service account (their default names and namespace).
func applier(producer flux.Ref) string {
	return flux.ServiceAccount(producer.Kind)
}

// findings turns the webhook's results into findings, one per constraint
// and message, with the action the webhook takes.
func findings(cluster string, o render.Object, resp *types.Responses) []finding.Finding {
	var out []finding.Finding
	for _, r := range resp.Results() {
		action, ok := webhookAction(r)
		if !ok {
			continue
		}
		out = append(out, finding.Finding{
			Cluster: cluster,
			Object:  object.IDOf(o.Object),
			File:    o.Origin.File,
			Where:   o.Origin.String(),
			Check:   Check,
			Rule:    r.Constraint.GetKind() + "/" + r.Constraint.GetName(),
			Action:  action,
			Warning: action != string(util.Deny),
			Message: r.Msg,
		})
	}
	return out
}

// webhookAction is what the webhook does with a result: its
// enforcementAction, or for "scoped" the strongest of the actions scoped to
// the webhook (deny over warn over dryrun). Actions the webhook does not
// know are skipped, as it skips them.
func webhookAction(r *types.Result) (string, bool) {
	actions := []string{r.EnforcementAction}
	if r.EnforcementAction == string(util.Scoped) {
		actions = r.ScopedEnforcementActions
	}
	best := ""
	for _, a := range actions {
		if util.ValidateEnforcementAction(util.EnforcementAction(a), r.Constraint.Object) != nil {
			continue
		}
		if finding.Strictness(a) > finding.Strictness(best) {
			best = a
		}
	}
	return best, best != ""
}

// trimArg returns the value of --name=value or "" and false.
func trimArg(arg, name string) (string, bool) {
	v, ok := strings.CutPrefix(arg, "--"+name+"=")
	if !ok {
		v, ok = strings.CutPrefix(arg, "-"+name+"=")
	}
	return v, ok
}

// engineCopies returns copies of the rendered objects for the engine: it
// may change what it is given, and check runs the other checks on the same
// render at the same time.
func engineCopies(objects []render.Object) []render.Object {
	out := make([]render.Object, len(objects))
	for i, o := range objects {
		out[i] = render.Object{Object: o.Object.DeepCopy(), Origin: o.Origin}
	}
	return out
}

// kindSet is the union of the constraints' match.kinds; all means some
// constraint matches every kind.
type kindSet struct {
	all   bool
	kinds map[string]bool // "group/Kind", with "*" for either part
}

func constrainedKinds(constraints []render.Object) kindSet {
	ks := kindSet{kinds: map[string]bool{}}
	for _, k := range constraints {
		list, ok, _ := unstructured.NestedFieldNoCopy(k.Object.Object, "spec", "match", "kinds")
		entries, _ := list.([]any)
		if !ok || len(entries) == 0 {
			ks.all = true
			return ks
		}
		for _, e := range entries {
			em, _ := e.(map[string]any)
			groups, _ := em["apiGroups"].([]any)
			kinds, _ := em["kinds"].([]any)
			if len(groups) == 0 || len(kinds) == 0 {
				// Gatekeeper: an entry without groups or kinds matches all.
				ks.all = true
				return ks
			}
			for _, g := range groups {
				for _, kind := range kinds {
					ks.kinds[fmt.Sprint(g)+"/"+fmt.Sprint(kind)] = true
				}
			}
		}
	}
	return ks
}

func (ks kindSet) matches(u *unstructured.Unstructured) bool {
	if ks.all {
		return true
	}
	gvk := u.GroupVersionKind()
	for _, key := range []string{gvk.Group + "/" + gvk.Kind, "*/" + gvk.Kind, gvk.Group + "/*", "*/*"} {
		if ks.kinds[key] {
			return true
		}
	}
	return false
}
