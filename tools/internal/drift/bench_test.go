package drift

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/render"
	"github.com/aks-gitops/platform/tools/internal/testenv"
)

const benchNamespaces = 20

// benchObjects returns n ConfigMaps, Deployments and headless Services
// (the test API server has 254 cluster IPs) spread over benchNamespaces
// namespaces, plus the namespaces.
func benchObjects(n int) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range benchNamespaces {
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": fmt.Sprintf("bench-%02d", i)},
		}})
	}
	for i := range n {
		ns := fmt.Sprintf("bench-%02d", i%benchNamespaces)
		name := fmt.Sprintf("obj-%04d", i)
		md := map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app": name}}
		var obj map[string]any
		switch i % 3 {
		case 0:
			obj = map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
				"data": map[string]any{"index": strconv.Itoa(i), "config.yaml": fmt.Sprintf("name: %s\nreplicas: %d\n", name, i%5)},
			}
		case 1:
			obj = map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment", "metadata": md,
				"spec": map[string]any{
					"replicas": int64(1),
					"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
					"template": map[string]any{
						"metadata": map[string]any{"labels": map[string]any{"app": name}},
						"spec": map[string]any{"containers": []any{map[string]any{
							"name": "app", "image": "nginx:1.27",
							"ports":     []any{map[string]any{"containerPort": int64(8080)}},
							"resources": map[string]any{"limits": map[string]any{"memory": "64Mi"}},
						}}},
					},
				},
			}
		default:
			obj = map[string]any{
				"apiVersion": "v1", "kind": "Service", "metadata": md,
				"spec": map[string]any{
					"clusterIP": "None", "selector": map[string]any{"app": name},
					"ports": []any{map[string]any{"port": int64(80), "targetPort": int64(8080)}},
				},
			}
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	return out
}

// BenchmarkLiveDiff times Check on BENCH_OBJECTS (default 2000) objects
// applied as kustomize-controller would, 20 of them edited by hand. With
// BENCH_KUBECTL set to a kubectl binary it also times
// `kubectl diff --server-side` on the same objects and server, reported as
// kubectl-s/op. BENCH_CONCURRENCY overrides the requests in flight.
// scripts/bench-drift.sh runs it.
func BenchmarkLiveDiff(b *testing.B) {
	n := 2000
	if s := os.Getenv("BENCH_OBJECTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("BENCH_OBJECTS: %v", err)
		}
	}
	env := testenv.Start(b)
	cfg := env.RESTConfig()
	c := newClient(b, cfg)
	ref := flux.RefTo(flux.KustomizationKind, "flux-system", "bench")
	objs := benchObjects(n)
	for _, o := range objs {
		setOwner(o, ref)
	}
	rm := ssa.NewResourceManager(c, polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{}), ssa.Owner{Field: flux.KustomizeController, Group: flux.OwnerGroup(flux.KustomizationKind)})
	rm.SetConcurrency(8)
	start := time.Now()
	applied := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		applied[i] = o.DeepCopy()
	}
	if _, err := rm.ApplyAllStaged(b.Context(), applied, ssa.DefaultApplyOptions()); err != nil {
		b.Fatal(err)
	}
	b.Logf("applied %d objects in %s", len(objs), time.Since(start).Round(time.Millisecond))
	const edits = 20
	for i := 0; i < edits; i++ {
		o := objs[benchNamespaces+3*i] // ConfigMaps
		u := o.DeepCopy()
		if err := unstructured.SetNestedField(u.Object, "edited", "data", "index"); err != nil {
			b.Fatal(err)
		}
		if err := c.Update(b.Context(), u); err != nil {
			b.Fatal(err)
		}
	}

	cluster := &render.Cluster{Path: "clusters/bench", Units: []*render.Unit{{Ref: ref}}}
	var file bytes.Buffer
	for _, o := range objs {
		cluster.Units[0].Objects = append(cluster.Units[0].Objects, render.Object{Object: o, Origin: render.Origin{Producer: ref}})
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		file.WriteString("---\n")
		file.Write(y)
	}

	opts := DefaultOptions()
	if s := os.Getenv("BENCH_CONCURRENCY"); s != "" {
		var err error
		if opts.Concurrency, err = strconv.Atoi(s); err != nil {
			b.Fatalf("BENCH_CONCURRENCY: %v", err)
		}
	}
	// As runLive does for the CLI.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Check(b.Context(), cfg, cluster, opts)
		if err != nil {
			b.Fatal(err)
		}
		if got := rep.Counts(); got[Drifted] != edits || got[Unchanged] != len(objs)-edits {
			b.Fatalf("counts %v, want %d drifted and %d unchanged", got, edits, len(objs)-edits)
		}
	}
	b.StopTimer()

	kubectl := os.Getenv("BENCH_KUBECTL")
	if kubectl == "" {
		return
	}
	path := filepath.Join(b.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		cmd := exec.CommandContext(b.Context(), kubectl, "--kubeconfig", env.Kubeconfig(), "diff", "--server-side",
			"--field-manager", flux.KustomizeController, "--force-conflicts", "-f", path)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		err := cmd.Run()
		total += time.Since(start)
		// kubectl diff exits 1 when it found differences.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			b.Fatalf("kubectl diff: %v\n%s", err, errOut.String())
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "kubectl-s/op")
}
