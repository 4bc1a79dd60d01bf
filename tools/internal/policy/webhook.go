package policy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/frameworks/constraint/pkg/types"
	"github.com/open-policy-agent/gatekeeper/v3/apis"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/controller/config/process"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/drivers/k8scel"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/gator/reader"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/target"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/util"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/aks-gitops/platform/tools/internal/render"
)

// gkScheme knows Gatekeeper's own kinds (templates, Config, SyncSet).
var gkScheme = func() *kruntime.Scheme {
	s := kruntime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		panic(err) // a broken build, not input
	}
	return s
}()

const (
	// ignoreLabel on a namespace keeps Gatekeeper's webhook away from it
	// (the chart's webhook namespaceSelector requires it absent).
	ignoreLabel = "admission.gatekeeper.sh/ignore"
	// nameLabel is set by the API server on every namespace.
	nameLabel = "kubernetes.io/metadata.name"
	// webhookName is the validating webhook Gatekeeper serves policy on.
	webhookName = "validation.gatekeeper.sh"
)

type reviewer interface {
	Review(ctx context.Context, obj any, opts ...reviews.ReviewOpt) (*types.Responses, error)
}

// settings are the parts of the rendered Gatekeeper installation that
// decide what the webhook sees and what the engine knows.
type settings struct {
	// exempt namespaces, prefixes and suffixes from the webhook's
	// --exempt-namespace* flags.
	exempt, exemptPrefix, exemptSuffix []string
	// cel and referential follow --enable-k8s-native-validation and
	// --enable-referential-rules (both default true).
	cel, referential bool
	// excluder holds the Config's excluded namespaces per process.
	excluder *process.Excluder
	// syncOnly are the kinds Gatekeeper replicates into data.inventory
	// (Config spec.sync.syncOnly and SyncSets); nil means all.
	syncOnly map[schema.GroupVersionKind]bool
	// namespaceSelector and objectSelector of the rendered webhook (nil:
	// the chart's default, ignore label absent).
	namespaceSelector, objectSelector labels.Selector
	namespaces                        map[string]*corev1.Namespace

	// mu guards assumed: webhookSees runs on one goroutine today; the
	// lock keeps it safe if that changes.
	mu      sync.Mutex
	assumed map[string]bool
}

// readSettings reads the webhook's flags from the rendered Gatekeeper
// Deployment, the Config named "config", SyncSets, the rendered validating
// webhook configuration and the Namespaces.
func readSettings(objects []render.Object) (*settings, error) {
	s := &settings{
		cel: true, referential: true,
		excluder:   process.New(),
		namespaces: map[string]*corev1.Namespace{},
		assumed:    map[string]bool{},
	}
	for _, o := range objects {
		u := o.Object
		gvk := u.GroupVersionKind()
		switch {
		case gvk.Group == "" && gvk.Kind == "Namespace":
			ns := &corev1.Namespace{}
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ns); err != nil {
				return nil, fmt.Errorf("namespace %s (%s): %w", u.GetName(), o.Origin, err)
			}
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[nameLabel] = ns.Name
			s.namespaces[ns.Name] = ns
		case gvk.Group == "apps" && gvk.Kind == "Deployment":
			s.readFlags(u)
		case reader.IsConfig(u) && u.GetName() == "config":
			cfg, err := reader.ToConfig(gkScheme, u)
			if err != nil {
				return nil, fmt.Errorf("gatekeeper config %s/%s (%s): %w", u.GetNamespace(), u.GetName(), o.Origin, err)
			}
			s.excluder.Add(cfg.Spec.Match)
			for _, e := range cfg.Spec.Sync.SyncOnly {
				s.sync(e.ToGroupVersionKind())
			}
		case reader.IsSyncSet(u):
			set, err := reader.ToSyncSet(gkScheme, u)
			if err != nil {
				return nil, fmt.Errorf("SyncSet %s (%s): %w", u.GetName(), o.Origin, err)
			}
			for _, e := range set.Spec.GVKs {
				s.sync(e.ToGroupVersionKind())
			}
		case gvk.Group == "admissionregistration.k8s.io" && gvk.Kind == "ValidatingWebhookConfiguration":
			if err := s.readWebhook(u); err != nil {
				return nil, fmt.Errorf("ValidatingWebhookConfiguration %s (%s): %w", u.GetName(), o.Origin, err)
			}
		}
	}
	return s, nil
}

func (s *settings) sync(gvk schema.GroupVersionKind) {
	if s.syncOnly == nil {
		s.syncOnly = map[schema.GroupVersionKind]bool{}
	}
	s.syncOnly[gvk] = true
}

// readFlags takes the flags of a container that serves Gatekeeper's
// validating webhook: one with --operation=webhook, or one with no
// --operation at all (every operation) that passes Gatekeeper flags.
func (s *settings) readFlags(u *unstructured.Unstructured) {
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		args, _, _ := unstructured.NestedStringSlice(cm, "args")
		var ops []string
		gatekeeper := false
		for _, a := range args {
			if v, ok := trimArg(a, "operation"); ok {
				ops = append(ops, v)
			}
			if strings.Contains(a, "exempt-namespace") || strings.Contains(a, "validating-webhook-configuration-name") {
				gatekeeper = true
			}
		}
		if !slices.Contains(ops, "webhook") && (len(ops) > 0 || !gatekeeper) {
			continue
		}
		for _, a := range args {
			if v, ok := trimArg(a, "exempt-namespace"); ok {
				s.exempt = append(s.exempt, v)
			}
			if v, ok := trimArg(a, "exempt-namespace-prefix"); ok {
				s.exemptPrefix = append(s.exemptPrefix, v)
			}
			if v, ok := trimArg(a, "exempt-namespace-suffix"); ok {
				s.exemptSuffix = append(s.exemptSuffix, v)
			}
			if v, ok := trimArg(a, "enable-k8s-native-validation"); ok {
				s.cel = v != "false"
			}
			if v, ok := trimArg(a, "enable-referential-rules"); ok {
				s.referential = v != "false"
			}
		}
	}
}

// readWebhook takes the selectors of Gatekeeper's validating webhook.
func (s *settings) readWebhook(u *unstructured.Unstructured) error {
	hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
	for _, h := range hooks {
		hm, _ := h.(map[string]any)
		if name, _, _ := unstructured.NestedString(hm, "name"); name != webhookName {
			continue
		}
		for field, dst := range map[string]*labels.Selector{"namespaceSelector": &s.namespaceSelector, "objectSelector": &s.objectSelector} {
			m, ok, _ := unstructured.NestedMap(hm, field)
			if !ok {
				continue
			}
			ls := &metav1.LabelSelector{}
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(m, ls); err != nil {
				return fmt.Errorf("webhook %s %s: %w", webhookName, field, err)
			}
			sel, err := metav1.LabelSelectorAsSelector(ls)
			if err != nil {
				return fmt.Errorf("webhook %s %s: %w", webhookName, field, err)
			}
			*dst = sel
		}
	}
	return nil
}

// newClient builds the constraint framework client as Gatekeeper's
// main does for the webhook: the Kubernetes-native (CEL) driver first,
// then Rego with data.inventory as its extern, enforcement point
// validation.gatekeeper.sh.
func newClient(s *settings) (*constraintclient.Client, error) {
	args := []constraintclient.Opt{constraintclient.Targets(&target.K8sValidationTarget{})}
	if s.cel {
		d, err := k8scel.New()
		if err != nil {
			return nil, fmt.Errorf("gatekeeper engine: CEL driver: %w", err)
		}
		args = append(args, constraintclient.Driver(d))
	}
	externs := rego.Externs()
	if s.referential {
		externs = rego.Externs("inventory")
	}
	d, err := rego.New(rego.Tracing(false), externs)
	if err != nil {
		return nil, fmt.Errorf("gatekeeper engine: Rego driver: %w", err)
	}
	args = append(args, constraintclient.Driver(d), constraintclient.EnforcementPoints(util.WebhookEnforcementPoint))
	c, err := constraintclient.NewClient(args...)
	if err != nil {
		return nil, fmt.Errorf("gatekeeper engine: %w", err)
	}
	return c, nil
}

// synced reports whether Gatekeeper's sync would put u into
// data.inventory: its kind is synced (every kind when the render
// declares no sync) and its namespace is not excluded from sync.
func (s *settings) synced(u *unstructured.Unstructured) bool {
	if s.syncOnly != nil && !s.syncOnly[u.GroupVersionKind()] {
		return false
	}
	excluded, err := s.excluder.IsNamespaceExcluded(process.Sync, u)
	return err == nil && !excluded
}

// webhookSees reports whether Gatekeeper's webhook would be asked about
// u, and the Namespace it would review u with. It is not: in a namespace
// the Config excludes from the webhook; in a namespace the rendered
// webhook's namespaceSelector rejects (by default one labelled
// admission.gatekeeper.sh/ignore; a namespace the webhook's
// --exempt-namespace* flags allow to carry that label is taken to carry
// it, as the chart's post-install hook labels them); an object the
// webhook's objectSelector rejects.
func (s *settings) webhookSees(u *unstructured.Unstructured) (*corev1.Namespace, bool) {
	if excluded, err := s.excluder.IsNamespaceExcluded(process.Webhook, u); err == nil && excluded {
		return nil, false
	}
	if s.objectSelector != nil && !s.objectSelector.Matches(labels.Set(u.GetLabels())) {
		return nil, false
	}
	gvk := u.GroupVersionKind()
	isNamespace := gvk.Group == "" && gvk.Kind == "Namespace"
	name := u.GetNamespace()
	if isNamespace {
		name = u.GetName()
	}
	if name == "" {
		// Cluster-scoped: no namespace selector applies.
		return nil, true
	}
	ns, known := s.namespaces[name]
	if !known {
		ns = assumedNamespace(name)
	}
	nsLabels := labels.Set{}
	for k, v := range ns.Labels {
		nsLabels[k] = v
	}
	if s.isExempt(name) {
		nsLabels[ignoreLabel] = "exempt"
	}
	sel := s.namespaceSelector
	if sel == nil {
		sel = defaultNamespaceSelector
	}
	if !sel.Matches(nsLabels) {
		return nil, false
	}
	if !known {
		s.mu.Lock()
		s.assumed[name] = true
		s.mu.Unlock()
	}
	return ns, true
}

var defaultNamespaceSelector = func() labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: ignoreLabel, Operator: metav1.LabelSelectorOpDoesNotExist}},
	})
	if err != nil {
		panic(err)
	}
	return sel
}()

// assumedNamespace is a namespace the render does not define, taken to
// exist with only the label the API server sets on every namespace.
func assumedNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{nameLabel: name}},
	}
}

func (s *settings) isExempt(name string) bool {
	if slices.Contains(s.exempt, name) {
		return true
	}
	for _, p := range s.exemptPrefix {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, p := range s.exemptSuffix {
		if strings.HasSuffix(name, p) {
			return true
		}
	}
	return false
}

func (s *settings) assumedNamespaces() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.assumed))
	for n := range s.assumed {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
