package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/utils"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// fixture is a parsed testdata archive: per producer, the rendered objects
// and the objects applied earlier.
type fixture struct {
	render map[flux.Ref][]*unstructured.Unstructured
	live   map[flux.Ref][]*unstructured.Unstructured
}

func loadFixture(t *testing.T, file string) fixture {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{render: map[flux.Ref][]*unstructured.Unstructured{}, live: map[flux.Ref][]*unstructured.Unstructured{}}
	for _, af := range ar.Files {
		dir, base := path.Split(af.Name)
		parts := strings.SplitN(strings.TrimSuffix(base, ".yaml"), "_", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: want <ks|hr>_<namespace>_<name>.yaml", af.Name)
		}
		kind := flux.KustomizationKind
		if parts[0] == "hr" {
			kind = flux.HelmReleaseKind
		}
		ref := flux.RefTo(kind, parts[1], parts[2])
		objs, err := utils.ReadObjects(bytes.NewReader(af.Data))
		if err != nil {
			t.Fatalf("%s: %v", af.Name, err)
		}
		for _, o := range objs {
			setOwner(o, ref)
		}
		switch dir {
		case "render/":
			f.render[ref] = objs
		case "live/":
			f.live[ref] = objs
		default:
			t.Fatalf("%s: want render/ or live/", af.Name)
		}
	}
	return f
}

// setOwner sets the owner labels the Flux controller of ref puts on what
// it applies (the render sets them too).
func setOwner(u *unstructured.Unstructured, ref flux.Ref) {
	group := flux.OwnerGroup(flux.KustomizationKind)
	if ref.Kind == flux.HelmReleaseKind {
		group = flux.OwnerGroup(flux.HelmReleaseKind)
	}
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[group+"/name"], labels[group+"/namespace"] = ref.Name, ref.Namespace
	u.SetLabels(labels)
}

// cluster builds the render of the fixture as the renderer would.
func (f fixture) cluster() *render.Cluster {
	c := &render.Cluster{Path: "clusters/test"}
	refs := make([]flux.Ref, 0, len(f.render))
	for ref := range f.render {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, ref := range refs {
		u := &render.Unit{Ref: ref}
		for _, o := range f.render[ref] {
			origin := render.Origin{Producer: ref, File: "apps/" + strings.ToLower(o.GetKind()) + ".yaml"}
			if ref.Kind == flux.HelmReleaseKind {
				origin = render.Origin{Producer: ref, Chart: ref.Name + "-1.0.0", Template: "templates/" + o.GetName() + ".yaml"}
				if ev := o.GetAnnotations()["helm.sh/hook"]; ev != "" {
					origin.Hook, origin.HookEvents = true, strings.Split(ev, ",")
				}
			}
			u.Objects = append(u.Objects, render.Object{Object: o.DeepCopy(), Origin: origin})
		}
		c.Units = append(c.Units, u)
	}
	return c
}

// fluxCRDs creates permissive Kustomization and HelmRelease CRDs, without
// a status subresource so a test can write a Kustomization's inventory.
func fluxCRDs(t *testing.T, c client.Client) {
	t.Helper()
	for _, d := range []struct{ group, version, kind, plural string }{
		{flux.OwnerGroup(flux.KustomizationKind), "v1", "Kustomization", "kustomizations"},
		{flux.OwnerGroup(flux.HelmReleaseKind), "v2", "HelmRelease", "helmreleases"},
	} {
		preserve := true
		testenv.CreateCRD(t, c, &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: d.plural + "." + d.group},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: d.group,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: d.kind, ListKind: d.kind + "List", Plural: d.plural, Singular: strings.ToLower(d.kind)},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: d.version, Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: &preserve,
					}},
				}},
			},
		})
	}
}

// startFlux starts an API server with Flux's CRDs and loads the drift
// fixture (not applied yet).
func startFlux(t *testing.T) (*rest.Config, client.Client, fixture) {
	t.Helper()
	cfg := testenv.Start(t).RESTConfig()
	c := newClient(t, cfg)
	fluxCRDs(t, c)
	return cfg, c, loadFixture(t, "testdata/drift.txtar")
}

// applyAsFlux applies objs with the field manager of ref's controller, as
// Flux does (server-side apply, staged: namespaces first).
func applyAsFlux(t *testing.T, c client.Client, ref flux.Ref, objs []*unstructured.Unstructured) {
	t.Helper()
	owner := ssa.Owner{Field: flux.KustomizeController, Group: flux.OwnerGroup(flux.KustomizationKind)}
	if ref.Kind == flux.HelmReleaseKind {
		owner = ssa.Owner{Field: flux.HelmController, Group: flux.OwnerGroup(flux.HelmReleaseKind)}
	}
	rm := ssa.NewResourceManager(c, polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{}), owner)
	var in []*unstructured.Unstructured
	for _, o := range objs {
		o = o.DeepCopy()
		if ref.Kind == flux.HelmReleaseKind {
			// Helm's ownership metadata, which it sets on a release's
			// objects as it creates them (the fixture's releases are named
			// as their HelmReleases: no releaseName, no targetNamespace).
			// TestReleasesMatchHelmController (package cli) holds the live
			// diff to the real helm-controller.
			setHelmMetadata(o, ref.Name, ref.Namespace)
		}
		in = append(in, o)
	}
	opts := ssa.DefaultApplyOptions()
	opts.WaitTimeout = 30 * time.Second
	if _, err := rm.ApplyAllStaged(t.Context(), in, opts); err != nil {
		t.Fatalf("apply %s: %v", ref, err)
	}
}

// applyAll applies each producer's objects as Flux would, Kustomizations
// first (they create the namespaces), in a stable order.
func applyAll(t *testing.T, c client.Client, objs map[flux.Ref][]*unstructured.Unstructured) {
	t.Helper()
	refs := make([]flux.Ref, 0, len(objs))
	for ref := range objs {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i].Kind != flux.KustomizationKind, refs[j].Kind != flux.KustomizationKind
		if a != b {
			return !a
		}
		return refs[i].String() < refs[j].String()
	})
	for _, ref := range refs {
		applyAsFlux(t, c, ref, objs[ref])
	}
}

func newClient(t testing.TB, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// edit merge-patches an object as someone with kubectl would.
func edit(t *testing.T, c client.Client, apiVersion, kind, ns, name, patch string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if err := c.Patch(t.Context(), u, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatalf("edit %s %s/%s: %v", kind, ns, name, err)
	}
}

func mustObject(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	objs, err := utils.ReadObjects(strings.NewReader(y))
	if err != nil || len(objs) != 1 {
		t.Fatalf("object: %v (%d objects)", err, len(objs))
	}
	return objs[0]
}

// row is the part of a result the tests pin.
type row struct {
	ID, Status, Producer, Reason string
	Fields                       []string
	Notes                        []string
}

func rows(rep *Report) []row {
	var out []row
	for _, r := range rep.Results {
		w := row{ID: r.ID.Qualified(), Status: string(r.Status), Producer: r.Origin.Producer.String(), Reason: r.Reason}
		for _, f := range r.Fields {
			s := fmt.Sprintf("%s %s", f.Path, f.Op)
			switch {
			case f.Masked:
				s += " masked"
			case f.Op == "changed":
				s += fmt.Sprintf(" %s -> %s", f.Old, f.New)
			}
			w.Fields = append(w.Fields, s)
		}
		for _, n := range r.Notes {
			w.Notes = append(w.Notes, string(n.Level)+" "+n.Rule)
		}
		out = append(out, w)
	}
	return out
}

func fastOptions() Options {
	opts := DefaultOptions()
	opts.Backoff.Steps = 2
	opts.RequestTimeout = 10 * time.Second
	return opts
}

// TestCheck applies a known state as Flux would, drifts it by hand in
// every way the engine tells apart, and pins each finding.
func TestCheck(t *testing.T) {
	cfg, c, f := startFlux(t)
	applyAll(t, c, f.live)

	// The hand edits.
	edit(t, c, "apps/v1", "Deployment", "apps", "web", `{"spec":{"replicas":5}}`)
	edit(t, c, "v1", "ConfigMap", "apps", "edited", `{"data":{"key":"hacked"}}`)
	edit(t, c, "v1", "ConfigMap", "apps", "chart-cfg", `{"data":{"mode":"hacked","ignored":"by-hand"}}`)
	edit(t, c, "v1", "ConfigMap", "apps", "quiet-cfg", `{"data":{"mode":"hacked"}}`)
	edit(t, c, "v1", "ConfigMap", "apps", "warned-cfg", `{"data":{"mode":"hacked"}}`)
	deleted := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deleted, namespace: apps}\n")
	if err := c.Delete(t.Context(), deleted); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, y := range []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: flux-system}\n",
		// Applied by an earlier revision, its owner labels removed by hand:
		// only the inventory knows it.
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orphan, namespace: apps}\ndata: {key: v}\n",
	} {
		if err := c.Create(ctx, mustObject(t, y)); err != nil {
			t.Fatal(err)
		}
	}
	live := mustObject(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
status:
  inventory:
    entries:
      - {id: _apps__Namespace, v: v1}
      - {id: apps_settings__ConfigMap, v: v1}
      - {id: apps_orphan__ConfigMap, v: v1}
      - {id: apps_gone__ConfigMap, v: v1}
      - {id: apps_web_apps_Deployment, v: v1}
`)
	if err := c.Create(ctx, live); err != nil {
		t.Fatal(err)
	}

	rep, err := Check(ctx, cfg, f.cluster(), fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	const (
		ksRef   = "Kustomization/flux-system/apps"
		webRef  = "HelmRelease/apps/web"
		quietRf = "HelmRelease/apps/quiet"
	)
	want := []row{
		{ID: "Namespace/apps", Status: "unchanged", Producer: ksRef},
		{ID: "Namespace/newns", Status: "created", Producer: ksRef},
		{ID: "ConfigMap/apps/chart-cfg", Status: "drifted", Producer: webRef, Fields: []string{"data.mode changed hacked -> normal"}},
		{ID: "ConfigMap/apps/chart-old", Status: "prune", Producer: webRef, Notes: []string{"danger prune"}},
		{ID: "ConfigMap/apps/deleted", Status: "created", Producer: ksRef},
		{ID: "ConfigMap/apps/disabled", Status: "skipped", Producer: ksRef, Reason: "kustomize.toolkit.fluxcd.io/reconcile: disabled"},
		{ID: "ConfigMap/apps/edited", Status: "drifted", Producer: ksRef, Fields: []string{"data.key changed hacked -> v"}},
		{ID: "ConfigMap/apps/extra", Status: "prune", Producer: ksRef, Notes: []string{"danger prune"}},
		{ID: "ConfigMap/apps/ifnotpresent", Status: "skipped", Producer: ksRef, Reason: "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent and the object exists"},
		{ID: "ConfigMap/apps/ignored", Status: "skipped", Producer: ksRef, Reason: "kustomize.toolkit.fluxcd.io/ssa: Ignore"},
		{ID: "ConfigMap/apps/orphan", Status: "prune", Producer: ksRef, Notes: []string{"danger prune"}},
		{ID: "ConfigMap/apps/quiet-cfg", Status: "skipped", Producer: quietRf, Reason: "HelmRelease/apps/quiet has spec.driftDetection.mode disabled (the default): helm-controller does not compare its objects with the cluster"},
		{ID: "ConfigMap/apps/settings", Status: "unchanged", Producer: ksRef},
		{ID: "ConfigMap/apps/warned-cfg", Status: "drifted", Producer: "HelmRelease/apps/warned", Fields: []string{"data.mode changed hacked -> normal"}, Notes: []string{"warning drift-warn"}},
		{ID: "Deployment.apps/apps/forced", Status: "drifted", Producer: ksRef},
		{ID: "Deployment.apps/apps/web", Status: "drifted", Producer: ksRef, Fields: []string{"spec.replicas changed 5 -> 2"}},
		{ID: "HelmRelease.helm.toolkit.fluxcd.io/apps/quiet", Status: "unchanged", Producer: ksRef},
		{ID: "HelmRelease.helm.toolkit.fluxcd.io/apps/warned", Status: "unchanged", Producer: ksRef},
		{ID: "HelmRelease.helm.toolkit.fluxcd.io/apps/web", Status: "unchanged", Producer: ksRef},
		{ID: "Job.batch/apps/web-migrate", Status: "skipped", Producer: webRef, Reason: "Helm hook (pre-upgrade): run by Helm, not kept live"},
		{ID: "Secret/apps/creds", Status: "drifted", Producer: ksRef, Fields: []string{"data.password changed masked"}},
		{ID: "Secret/apps/frozen", Status: "failed", Producer: ksRef, Reason: "immutable field change, the API server rejects it: Secret \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set", Fields: []string{"data.token changed masked"}, Notes: []string{"warning force"}},
		{ID: "Service/apps/web", Status: "failed", Producer: ksRef},
		{ID: "ConfigMap/newns/cm", Status: "created", Producer: ksRef, Notes: []string{"warning namespace-in-render"}},
	}
	got := rows(rep)
	// The immutable-field results carry the server's wording; pinned apart.
	var forced, svc *row
	for i := range got {
		switch got[i].ID {
		case "Deployment.apps/apps/forced":
			forced = &got[i]
		case "Service/apps/web":
			svc = &got[i]
		}
	}
	if forced == nil || svc == nil {
		t.Fatalf("missing results:\n%+v", got)
	}
	if want := "spec.selector.matchLabels.app changed forced-v1 -> forced-v2"; !contains(forced.Fields, want) || !contains(forced.Notes, "danger recreate") {
		t.Errorf("forced Deployment: fields %q notes %q; want %q and a recreate note", forced.Fields, forced.Notes, want)
	}
	if !strings.HasPrefix(svc.Reason, "immutable field change, the API server rejects it: ") || !strings.Contains(svc.Reason, "spec.clusterIPs[0]") ||
		!contains(svc.Fields, "spec.clusterIP changed 10.0.0.50 -> 10.0.0.60") || !contains(svc.Notes, "warning force") {
		t.Errorf("Service clusterIP change: %+v", *svc)
	}
	forced.Fields, forced.Notes, svc.Reason, svc.Fields, svc.Notes = nil, nil, "", nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !rep.Drifted() {
		t.Error("Drifted() = false")
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %q", rep.Warnings)
	}

	// No result ever holds a Secret value, changed or not: the writers
	// (package report, whose tests hold them to it) show only what a result
	// holds.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"live-secret-value-1", "desired-secret-value-2", "admin", "frozen-live-token-3", "frozen-desired-token-4"} {
		if strings.Contains(string(data), v) || strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte(v))) {
			t.Errorf("the report holds the Secret value %q:\n%s", v, data)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCheckInSync: what Flux applied, compared right after, is in sync:
// no spurious difference from server defaulting, stringData or managed
// fields.
func TestCheckInSync(t *testing.T) {
	cfg, c, f := startFlux(t)
	for ref, objs := range f.render {
		if ref.Kind == flux.HelmReleaseKind {
			// Hooks are not kept live.
			var keep []*unstructured.Unstructured
			for _, o := range objs {
				if o.GetAnnotations()["helm.sh/hook"] == "" {
					keep = append(keep, o)
				}
			}
			objs = keep
		}
		f.live[ref] = objs
	}
	applyAll(t, c, f.live)
	rep, err := Check(t.Context(), cfg, f.cluster(), fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status != Unchanged && r.Status != Skipped {
			t.Errorf("%s: %s %s %+v", r.ID, r.Status, r.Reason, r.Fields)
		}
	}
	if rep.Drifted() {
		t.Error("Drifted() = true for a cluster in sync")
	}
	// Flux's CRDs are installed but the Kustomization is not live.
	if want := []string{"Kustomization/flux-system/apps is not live: no inventory to find prune candidates in"}; !cmp.Equal(rep.Warnings, want) {
		t.Errorf("warnings %q, want %q", rep.Warnings, want)
	}
}

// TestCheckUnreachable: no API server is an error, never "in sync".
func TestCheckUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cfg := &rest.Config{Host: "https://" + addr, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	f := loadFixture(t, "testdata/drift.txtar")
	_, err = Check(t.Context(), cfg, f.cluster(), fastOptions())
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v, want an error naming %s", err, addr)
	}
}

// TestCheckServerStops: an API server that goes away in the middle of
// the run fails the run.
func TestCheckServerStops(t *testing.T) {
	cfg, c, f := startFlux(t)
	applyAll(t, c, f.live)
	// A proxy that serves the first requests and then drops every
	// connection, as a server that stops would.
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = transport
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	// Counts the dry-runs (PATCH): the server goes away after a few of
	// them, in the middle of the per-object phase.
	var served atomic.Int64
	const budget = 3
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv *http.Server
	srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && served.Add(1) > budget {
			go func() { _ = srv.Close() }()
			panic(http.ErrAbortHandler)
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	pcfg := &rest.Config{Host: "http://" + l.Addr().String()}

	_, err = Check(t.Context(), pcfg, f.cluster(), fastOptions())
	if err == nil {
		t.Fatalf("no error after the server went away (%d dry-runs)", served.Load())
	}
	if served.Load() <= budget {
		t.Errorf("failed after %d dry-runs, before the server went away: %v", served.Load(), err)
	}
	t.Logf("error after %d dry-runs: %v", served.Load(), err)
}

// TestMaskSecretValues: a server message quoting a Secret value (raw or
// base64) never carries it on.
func TestMaskSecretValues(t *testing.T) {
	s := mustObject(t, `apiVersion: v1
kind: Secret
metadata: {name: s, namespace: x}
data: {a: c2VjcmV0LWE=}
stringData: {b: secret-b-longer, c: no}
`)
	msg := `Secret "s" is invalid: data[a]: "secret-a" (c2VjcmV0LWE=), stringData[b]: "secret-b-longer", c: "no"`
	want := `Secret "s" is invalid: data[a]: "***" (***), stringData[b]: "***", c: "no"`
	if got := maskSecretValues(s, msg); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	cm := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: secret-a}\n")
	if got := maskSecretValues(cm, msg); got != msg {
		t.Errorf("a ConfigMap's values are masked: %s", got)
	}
}

// TestIsRejection tells the API server judging an object from it failing
// or refusing the caller.
func TestIsRejection(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "invalid", err: apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "x", nil), want: true},
		{name: "webhook denial", err: apierrors.NewForbidden(gr, "x", errors.New(`admission webhook "v.example.com" denied the request: no`)), want: true},
		{name: "RBAC", err: apierrors.NewForbidden(gr, "x", errors.New(`User "bob" cannot patch resource "configmaps" in API group "" in the namespace "a"`)), want: false},
		{name: "namespace missing", err: apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "a"), want: true},
		{name: "throttled", err: apierrors.NewTooManyRequests("slow down", 1), want: false},
		{name: "unauthorized", err: apierrors.NewUnauthorized("who"), want: false},
		{name: "internal", err: apierrors.NewInternalError(errors.New("etcd")), want: false},
		{name: "transport", err: errors.New("dial tcp: connection refused"), want: false},
	}
	for _, tt := range tests {
		if got := isRejection(tt.err); got != tt.want {
			t.Errorf("%s: isRejection = %v, want %v", tt.name, got, tt.want)
		}
	}
}
