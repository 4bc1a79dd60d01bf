// Package gatekeeperenv runs Gatekeeper's own manager (built by
// scripts/controllers.sh at the version our HelmRelease pins) as the
// validating admission webhook of a testenv API server, configured from the
// render of our gatekeeper HelmRelease: the CRDs, the manager's flags and the
// webhook configurations are what the chart makes of our values. What a pod
// would get from the cluster is made by the test instead: the serving
// certificate (a CA of its own), a URL for the webhook (the manager listens
// on loopback; there is no Service to route to) and the namespace labels the
// chart's post-install hook sets.
package gatekeeperenv

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

const (
	// Namespace is where the manager's (pod-less) Pod object lives.
	Namespace = "gatekeeper-system"
	// ignoreLabel exempts a namespace from the webhook; the chart's
	// post-install hook sets it on the exempt namespaces.
	ignoreLabel = "admission.gatekeeper.sh/ignore"
	// fieldManager applies the harness's objects.
	fieldManager = "gatekeeperenv"
	podName      = "gatekeeper-controller-manager-harness"
	managerName  = "gatekeeper-controller-manager"
)

// Gatekeeper is the manager running as the API server's admission webhook.
type Gatekeeper struct {
	client  client.Client
	manager *testenv.Controller
}

// Start runs the manager as the rendered release would: rendered is the
// render of our gatekeeper HelmRelease (its CRDs, its Namespace, the
// controller-manager Deployment whose container args the manager gets and
// the webhook configurations, pointed at the manager on loopback). The
// manager also runs the generate and status operations (the chart gives
// them to the audit Deployment). It returns once the manager is ready and
// the webhooks are registered.
func Start(t testing.TB, env *testenv.Env, rendered []*unstructured.Unstructured) *Gatekeeper {
	t.Helper()
	g := &Gatekeeper{client: env.Client(t)}
	manager := managerDeployment(t, rendered)
	args, err := containerArgs(manager)
	if err != nil {
		t.Fatalf("gatekeeperenv: Deployment %s: %v", managerName, err)
	}
	var crds []*unstructured.Unstructured
	for _, u := range rendered {
		switch {
		case isNamespace(u):
			g.apply(t, u)
		case u.GroupVersionKind().GroupKind() == schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
			crds = append(crds, u)
		}
	}
	testenv.CreateUnstructuredCRDs(t, g.client, crds...)
	// What the chart's post-install hook does: label the namespaces the
	// manager is told to exempt (the hook labels the same list).
	for _, ns := range flagValues(args, "exempt-namespace") {
		g.labelNamespace(t, ns)
	}
	port, caPEM := g.startManager(t, env, manager, "127.0.0.1")
	for _, u := range rendered {
		if !isWebhookConfiguration(u) {
			continue
		}
		hook := u.DeepCopy()
		if err := pointAtLoopback(hook, port, caPEM); err != nil {
			t.Fatalf("gatekeeperenv: %s %s: %v", u.GetKind(), hook.GetName(), err)
		}
		g.apply(t, hook)
	}
	return g
}

// ServeRelease serves the webhooks of a Gatekeeper release helm-controller
// installs (rendered is its render), as the release's pods would on a
// cluster, once the release's Deployment and webhook configurations exist: the manager runs with the rendered Deployment's arguments on
// host (an address of this machine that is not loopback: the API server
// reaches webhook Services through their endpoints, and an endpoint may not
// be a loopback address); the Service's endpoints are that address; the
// webhook configurations get the CA of the serving certificate, as the
// manager's certificate rotation does on a cluster. The API server must
// route to endpoints (testenv starts it with --enable-aggregator-routing).
func ServeRelease(t testing.TB, env *testenv.Env, rendered []*unstructured.Unstructured, host string) *Gatekeeper {
	t.Helper()
	g := &Gatekeeper{client: env.Client(t)}
	// The release's pods would start as soon as its Deployment exists; the
	// webhook configurations are installed with it.
	manager := managerDeployment(t, rendered)
	exists := func(*unstructured.Unstructured) bool { return true }
	g.waitFor(t, manager, exists)
	for _, u := range rendered {
		if isWebhookConfiguration(u) {
			g.waitFor(t, u, exists)
		}
	}
	port, caPEM := g.startManager(t, env, manager, host)
	g.serveService(t, host, port)
	for _, u := range rendered {
		if !isWebhookConfiguration(u) {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(u.GroupVersionKind())
		if err := g.client.Get(t.Context(), client.ObjectKeyFromObject(u), live); err != nil {
			t.Fatalf("gatekeeperenv: %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		webhooks, _, _ := unstructured.NestedSlice(live.Object, "webhooks")
		for i := range webhooks {
			if m, ok := webhooks[i].(map[string]any); ok {
				_ = unstructured.SetNestedField(m, base64.StdEncoding.EncodeToString(caPEM), "clientConfig", "caBundle")
			}
		}
		if err := unstructured.SetNestedSlice(live.Object, webhooks, "webhooks"); err != nil {
			t.Fatal(err)
		}
		if err := g.client.Update(t.Context(), live); err != nil {
			t.Fatalf("gatekeeperenv: inject the CA into %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	return g
}

// serviceName is the chart's webhook Service.
const serviceName = "gatekeeper-webhook-service"

// serveService makes host:port the one endpoint of the webhook Service, as
// the EndpointSlice controller would for a ready pod: an EndpointSlice and
// the Endpoints object, each port named as the Service's.
func (g *Gatekeeper) serveService(t testing.TB, host string, port int) {
	t.Helper()
	svc := &corev1.Service{}
	if err := g.client.Get(t.Context(), client.ObjectKey{Namespace: Namespace, Name: serviceName}, svc); err != nil {
		t.Fatalf("gatekeeperenv: the release's Service: %v", err)
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("gatekeeperenv: Service %s has %d ports, want 1", serviceName, len(svc.Spec.Ports))
	}
	name, p := svc.Spec.Ports[0].Name, int32(port)
	objs := []client.Object{
		&discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: serviceName + "-harness", Namespace: Namespace,
				Labels: map[string]string{discoveryv1.LabelServiceName: serviceName, discoveryv1.LabelManagedBy: fieldManager},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &p}},
		},
		&corev1.Endpoints{ //nolint:staticcheck // what an API server without EndpointSlice routing reads
			ObjectMeta: metav1.ObjectMeta{Name: serviceName, Namespace: Namespace},
			Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // as above
				Addresses: []corev1.EndpointAddress{{IP: host}},
				Ports:     []corev1.EndpointPort{{Name: name, Port: p}},
			}},
		},
	}
	for _, o := range objs {
		if err := g.client.Create(t.Context(), o); err != nil {
			t.Fatalf("gatekeeperenv: endpoints of %s: %v", serviceName, err)
		}
	}
}

// managerDeployment is the rendered controller-manager Deployment.
func managerDeployment(t testing.TB, rendered []*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	manager := find(rendered, "apps", "Deployment", managerName)
	if manager == nil {
		t.Fatalf("gatekeeperenv: the render has no Deployment %s", managerName)
	}
	return manager
}

// startManager starts the manager with the container arguments of the
// rendered Deployment manager, serving webhooks on host with a certificate
// made here, and returns the webhook port and the CA (PEM) once the manager
// is ready. The manager also runs the generate and status
// operations (the chart gives them to the audit Deployment): generate makes
// the constraint CRDs of each template, status reports enforcement.
func (g *Gatekeeper) startManager(t testing.TB, env *testenv.Env, manager *unstructured.Unstructured, host string) (int, []byte) {
	t.Helper()
	args, err := containerArgs(manager)
	if err != nil {
		t.Fatalf("gatekeeperenv: Deployment %s: %v", managerName, err)
	}
	g.createPod(t, env, manager)
	certDir := t.TempDir()
	caPEM := writeServingCert(t, certDir)
	ports, err := testenv.FreePorts(3)
	if err != nil {
		t.Fatalf("gatekeeperenv: %v", err)
	}
	health := "127.0.0.1:" + strconv.Itoa(ports[1])
	for _, op := range []string{"generate", "status"} {
		if !slices.Contains(flagValues(args, "operation"), op) {
			args = append(args, "--operation="+op)
		}
	}
	args = append(dropFlags(args, "port", "host", "cert-dir", "disable-cert-rotation", "health-addr",
		"metrics-addr", "prometheus-port", "enable-tls-healthcheck"),
		"--port="+strconv.Itoa(ports[0]),
		"--host="+host,
		"--cert-dir="+certDir,
		"--disable-cert-rotation",
		"--health-addr="+health,
		"--prometheus-port="+strconv.Itoa(ports[2]),
	)
	g.manager = env.StartController(t, "gatekeeper", []string{
		"POD_NAMESPACE=" + Namespace,
		"POD_NAME=" + podName,
		"NAMESPACE=" + Namespace,
		"CONTAINER_NAME=manager",
	}, args...)
	g.waitHealthy(t, "http://"+health+"/readyz")
	return ports[0], caPEM
}

func isWebhookConfiguration(u *unstructured.Unstructured) bool {
	kind := u.GetKind()
	return u.GroupVersionKind().Group == "admissionregistration.k8s.io" &&
		(kind == "ValidatingWebhookConfiguration" || kind == "MutatingWebhookConfiguration")
}

// Tail returns the end of the manager's log.
func (g *Gatekeeper) Tail(n int) string { return g.manager.Tail(n) }

func find(objs []*unstructured.Unstructured, group, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		if gvk.Group == group && gvk.Kind == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

// containerArgs is the args of the Deployment's container named manager.
func containerArgs(d *unstructured.Unstructured) ([]string, error) {
	containers, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return nil, err
	}
	for _, c := range containers {
		m, ok := c.(map[string]any)
		if !ok || m["name"] != "manager" {
			continue
		}
		args, _, err := unstructured.NestedStringSlice(m, "args")
		return args, err
	}
	return nil, fmt.Errorf("no container named manager")
}

// flagName is the name of a --name=value or --name argument.
func flagName(arg string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return name
}

// flagValues is every value of --name=value in args.
func flagValues(args []string, name string) []string {
	var out []string
	for _, a := range args {
		if flagName(a) == name {
			if _, v, ok := strings.Cut(a, "="); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// dropFlags is args without the flags named.
func dropFlags(args []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return slices.Contains(names, flagName(a))
	})
}

// pointAtLoopback turns each webhook's service reference into a URL on the
// manager's port, with the test CA as the bundle.
func pointAtLoopback(hook *unstructured.Unstructured, port int, caPEM []byte) error {
	webhooks, _, err := unstructured.NestedSlice(hook.Object, "webhooks")
	if err != nil {
		return err
	}
	for i, w := range webhooks {
		m, ok := w.(map[string]any)
		if !ok {
			return fmt.Errorf("webhooks[%d] is not an object", i)
		}
		path, _, _ := unstructured.NestedString(m, "clientConfig", "service", "path")
		m["clientConfig"] = map[string]any{
			"url":      fmt.Sprintf("https://127.0.0.1:%d%s", port, path),
			"caBundle": base64.StdEncoding.EncodeToString(caPEM),
		}
		webhooks[i] = m
	}
	return unstructured.SetNestedSlice(hook.Object, webhooks, "webhooks")
}

// apply server-side applies objs as fieldManager.
func (g *Gatekeeper) apply(t testing.TB, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		u = u.DeepCopy()
		u.SetResourceVersion("")
		if err := g.client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			t.Fatalf("gatekeeperenv: apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func (g *Gatekeeper) labelNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	ns.SetLabels(map[string]string{ignoreLabel: "no-self-managing"})
	g.apply(t, ns)
}

// createPod creates the Pod object the manager looks itself up as (it owns
// the status objects it writes) from the pod template of the rendered
// Deployment manager, as its ReplicaSet would; no kubelet ever runs it.
func (g *Gatekeeper) createPod(t testing.TB, env *testenv.Env, manager *unstructured.Unstructured) {
	t.Helper()
	tmpl, _, err := unstructured.NestedMap(manager.Object, "spec", "template")
	if err != nil {
		t.Fatalf("gatekeeperenv: Deployment %s: %v", managerName, err)
	}
	pod := &unstructured.Unstructured{Object: tmpl}
	pod.SetAPIVersion("v1")
	pod.SetKind("Pod")
	pod.SetName(podName)
	pod.SetNamespace(Namespace)
	// Pod Security admission may warn about the template's pod-level
	// fields; the Deployment, not this stand-in, is what is judged.
	cfg := env.RESTConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatalf("gatekeeperenv: client: %v", err)
	}
	if err := c.Create(t.Context(), pod); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("gatekeeperenv: %v", err)
	}
}

// waitHealthy polls url until it answers 200, the manager dies or a minute
// passes.
func (g *Gatekeeper) waitHealthy(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if err := g.manager.Exited(); err != nil {
			t.Fatalf("gatekeeperenv: %v\n%s", err, g.manager.Tail(40))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gatekeeperenv: the manager was not ready after a minute\n%s", g.manager.Tail(40))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeServingCert writes tls.crt and tls.key for 127.0.0.1 into dir and
// returns the CA certificate (PEM) that signed them.
func writeServingCert(t testing.TB, dir string) []byte {
	t.Helper()
	cert := testenv.IssueCert(t, "gatekeeper-webhook-service.gatekeeper-system.svc")
	for name, b := range cert.Files() {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert.CA
}

// ApplyPolicies applies the constraint templates among objs, waits until
// Gatekeeper has compiled each one and serves its constraint kind, then
// applies the constraints and waits until the manager enforces each one. It
// returns the number of constraints.
func (g *Gatekeeper) ApplyPolicies(t testing.TB, objs []*unstructured.Unstructured) int {
	t.Helper()
	var templates, constraints []*unstructured.Unstructured
	for _, u := range objs {
		switch u.GroupVersionKind().Group {
		case "templates.gatekeeper.sh":
			templates = append(templates, u)
		case "constraints.gatekeeper.sh":
			constraints = append(constraints, u)
		}
	}
	g.apply(t, templates...)
	for _, tmpl := range templates {
		g.waitFor(t, tmpl, func(live *unstructured.Unstructured) bool {
			created, _, _ := unstructured.NestedBool(live.Object, "status", "created")
			return created && podStatus(live, "errors") == nil
		})
		kind, _, _ := unstructured.NestedString(tmpl.Object, "spec", "crd", "spec", "names", "kind")
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		crd.SetName(strings.ToLower(kind) + ".constraints.gatekeeper.sh")
		g.waitFor(t, crd, established)
	}
	// kube-apiserver refuses creates of a new kind for two seconds after
	// its CRD is Established (testenv.CreateCRDs waits the same).
	time.Sleep(2 * time.Second)
	g.apply(t, constraints...)
	for _, c := range constraints {
		g.waitFor(t, c, func(live *unstructured.Unstructured) bool {
			return podStatus(live, "enforced") == true
		})
	}
	return len(constraints)
}

// podStatus is field of the manager's entry in live's status.byPod, or nil.
func podStatus(live *unstructured.Unstructured, field string) any {
	byPod, _, _ := unstructured.NestedSlice(live.Object, "status", "byPod")
	for _, p := range byPod {
		if m, ok := p.(map[string]any); ok && m["id"] == podName {
			return m[field]
		}
	}
	return nil
}

func established(live *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// waitFor polls obj until done holds of the live object, failing t with
// the object's status after a minute (or when the manager, once started,
// dies).
func (g *Gatekeeper) waitFor(t testing.TB, obj *unstructured.Unstructured, done func(*unstructured.Unstructured) bool) {
	t.Helper()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	deadline := time.Now().Add(time.Minute)
	for {
		err := g.client.Get(t.Context(), client.ObjectKeyFromObject(obj), live)
		if err == nil && done(live) {
			return
		}
		var tail string
		if g.manager != nil {
			if err := g.manager.Exited(); err != nil {
				t.Fatalf("gatekeeperenv: %v\n%s", err, g.manager.Tail(40))
			}
			tail = g.manager.Tail(20)
		}
		if time.Now().After(deadline) {
			status, _, _ := unstructured.NestedFieldNoCopy(live.Object, "status")
			t.Fatalf("gatekeeperenv: %s %s not ready after a minute (get: %v; status: %v)\n%s",
				obj.GetKind(), obj.GetName(), err, status, tail)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Result is what admission made of one object.
type Result struct {
	Kind, Namespace, Name string
	// NoKind: the API server does not serve the object's kind (its CRD
	// is not installed), so it was not sent.
	NoKind bool
	// Err is the refusal, naming the constraint; Warnings what a warn
	// constraint said of an admitted object.
	Err      error
	Warnings []string
}

// warnings collects the API server's warnings of one request at a time.
type warnings struct{ list []string }

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _, text string) {
	w.list = append(w.list, text)
}

// Admit sends each object through admission as kustomize-controller would
// apply it: the Namespaces among objs for real (the others need them), every
// other object as a server-side dry-run apply. Namespaces objects name but
// objs do not hold are created first, unlabelled, as the cluster would have
// them. Results come in the order of objs.
func (g *Gatekeeper) Admit(t testing.TB, env *testenv.Env, objs []*unstructured.Unstructured) []Result {
	t.Helper()
	w := &warnings{}
	cfg := env.RESTConfig()
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatalf("gatekeeperenv: client: %v", err)
	}
	testenv.CreateNamespaces(t, g.client, testenv.NamespacesOf(objs)...)
	// Namespaces first, for real; then the rest, dry-run.
	results := make([]Result, len(objs))
	for _, namespaces := range []bool{true, false} {
		for i, u := range objs {
			if isNamespace(u) != namespaces {
				continue
			}
			opts := []client.ApplyOption{client.FieldOwner(flux.KustomizeController), client.ForceOwnership}
			if !namespaces {
				opts = append(opts, client.DryRunAll)
			}
			w.list = nil
			err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u.DeepCopy()), opts...)
			results[i] = Result{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Warnings: w.list}
			if meta.IsNoMatchError(err) {
				results[i].NoKind, results[i].Warnings = true, nil
			} else {
				results[i].Err = err
			}
		}
	}
	return results
}

func isNamespace(u *unstructured.Unstructured) bool {
	return u.GetKind() == "Namespace" && u.GroupVersionKind().Group == ""
}
