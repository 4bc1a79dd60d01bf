// Package podenv runs a container of a rendered Deployment, StatefulSet or
// Job as a process against a testenv API server, as the kubelet would run it but
// without one: its configMap and secret volumes become files at their mount
// paths and its emptyDirs empty directories, under a root directory the
// process is chrooted into (testenv.StartControllerIn); its environment is
// the container's env and envFrom, with field references answered as for a
// pod of the workload on loopback; its arguments are the container's. The
// binary is the controller scripts/controllers.sh built at the version the
// image carries.
//
// ConfigMaps and Secrets come from the render, else from the API server
// (what a Job run before, such as a chart's certificate hook, wrote there).
package podenv

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// PodIP is what status.podIP and status.hostIP resolve to: the process
// listens on loopback.
const PodIP = "127.0.0.1"

// Options say what to run.
type Options struct {
	// Controller is the binary's name in testenv.ControllersDir().
	Controller string
	// Workload is the rendered Deployment or StatefulSet; Container the
	// name of the container to run (empty: the first).
	Workload  *unstructured.Unstructured
	Container string
	// Objects hold the ConfigMaps and Secrets volumes and env refer to
	// (the render).
	Objects []*unstructured.Unstructured
	// Args, when set, edits the container's arguments (a port the
	// harness moves, a feature it turns off); the caller says why.
	Args func([]string) []string
}

// pod is one container of the workload being laid out.
type pod struct {
	opts      Options
	namespace string
	name      string
	spec      corev1.PodSpec
	container corev1.Container
	// live reads the ConfigMaps and Secrets the render does not hold
	// (made by a Job, say) from the API server.
	live client.Reader
	ctx  context.Context
}

// Run starts the container and returns it; it is stopped when t ends.
func Run(t testing.TB, env *testenv.Env, opts Options) *testenv.Controller {
	t.Helper()
	root, vars, args := prepare(t, env, opts)
	return env.StartControllerIn(t, opts.Controller, root, vars, args...)
}

// Complete runs the container of a Job to completion: nil when it exits 0
// within timeout, else an error with the end of its log.
func Complete(t testing.TB, env *testenv.Env, opts Options, timeout time.Duration) error {
	t.Helper()
	root, vars, args := prepare(t, env, opts)
	return env.RunIn(t, opts.Controller, root, timeout, vars, args...)
}

// prepare lays out the container's root and resolves its environment and
// arguments.
func prepare(t testing.TB, env *testenv.Env, opts Options) (root string, vars, args []string) {
	t.Helper()
	p, err := newPod(opts)
	if err != nil {
		t.Fatalf("podenv: %s %s/%s: %v", opts.Workload.GetKind(), opts.Workload.GetNamespace(), opts.Workload.GetName(), err)
	}
	p.live, p.ctx = env.Client(t), t.Context()
	root = t.TempDir()
	vars, err = p.environment()
	if err == nil {
		err = p.layOut(root)
	}
	if err != nil {
		t.Fatalf("podenv: %s %s/%s container %s: %v", opts.Workload.GetKind(), p.namespace, opts.Workload.GetName(), p.container.Name, err)
	}
	if len(p.container.Command) > 1 {
		args = append(args, p.container.Command[1:]...)
	}
	args = append(args, p.container.Args...)
	if opts.Args != nil {
		args = opts.Args(args)
	}
	return root, vars, args
}

func newPod(opts Options) (*pod, error) {
	p := &pod{opts: opts, namespace: opts.Workload.GetNamespace()}
	switch opts.Workload.GetKind() {
	case "Deployment":
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(opts.Workload.Object, &d); err != nil {
			return nil, err
		}
		p.spec, p.name = d.Spec.Template.Spec, d.Name+"-harness"
	case "Job":
		var j batchv1.Job
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(opts.Workload.Object, &j); err != nil {
			return nil, err
		}
		p.spec, p.name = j.Spec.Template.Spec, j.Name+"-harness"
	case "StatefulSet":
		var s appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(opts.Workload.Object, &s); err != nil {
			return nil, err
		}
		p.spec, p.name = s.Spec.Template.Spec, s.Name+"-0"
	default:
		return nil, fmt.Errorf("not a Deployment, StatefulSet or Job")
	}
	for _, c := range p.spec.Containers {
		if opts.Container == "" || c.Name == opts.Container {
			p.container = c
			return p, nil
		}
	}
	return nil, fmt.Errorf("no container %q", opts.Container)
}

// environment is the container's environment as the kubelet would set it.
func (p *pod) environment() ([]string, error) {
	var vars []string
	for _, from := range p.container.EnvFrom {
		var data map[string][]byte
		var err error
		switch {
		case from.ConfigMapRef != nil:
			data, err = p.data("ConfigMap", from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		case from.SecretRef != nil:
			data, err = p.data("Secret", from.SecretRef.Name, from.SecretRef.Optional)
		}
		if err != nil {
			return nil, fmt.Errorf("envFrom: %w", err)
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			vars = append(vars, from.Prefix+k+"="+string(data[k]))
		}
	}
	for _, e := range p.container.Env {
		v, err := p.value(e)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		vars = append(vars, e.Name+"="+v)
	}
	return vars, nil
}

func (p *pod) value(e corev1.EnvVar) (string, error) {
	from := e.ValueFrom
	switch {
	case from == nil:
		return e.Value, nil
	case from.FieldRef != nil:
		switch from.FieldRef.FieldPath {
		case "metadata.namespace":
			return p.namespace, nil
		case "metadata.name":
			return p.name, nil
		case "spec.serviceAccountName":
			return p.spec.ServiceAccountName, nil
		case "spec.nodeName":
			return "harness", nil
		case "status.podIP", "status.hostIP":
			return PodIP, nil
		}
		return "", fmt.Errorf("field %s is not answered by the harness", from.FieldRef.FieldPath)
	case from.ResourceFieldRef != nil:
		return p.resource(from.ResourceFieldRef)
	case from.ConfigMapKeyRef != nil:
		return p.key("ConfigMap", from.ConfigMapKeyRef.Name, from.ConfigMapKeyRef.Key, from.ConfigMapKeyRef.Optional)
	case from.SecretKeyRef != nil:
		return p.key("Secret", from.SecretKeyRef.Name, from.SecretKeyRef.Key, from.SecretKeyRef.Optional)
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

// resource answers a resourceFieldRef as the kubelet does: the container's
// limit (or request) divided by the divisor, rounded up.
func (p *pod) resource(ref *corev1.ResourceFieldSelector) (string, error) {
	kind, name, _ := strings.Cut(ref.Resource, ".")
	list := p.container.Resources.Limits
	if kind == "requests" {
		list = p.container.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "", fmt.Errorf("resource %s is not set (the kubelet would use the node's allocatable)", ref.Resource)
	}
	divisor := 1.0
	if !ref.Divisor.IsZero() {
		divisor = ref.Divisor.AsApproximateFloat64()
	}
	return fmt.Sprint(int64(math.Ceil(q.AsApproximateFloat64() / divisor))), nil
}

func (p *pod) key(kind, name, key string, optional *bool) (string, error) {
	data, err := p.data(kind, name, optional)
	if err != nil {
		return "", err
	}
	v, ok := data[key]
	if !ok && (optional == nil || !*optional) {
		return "", fmt.Errorf("%s %s has no key %s", kind, name, key)
	}
	return string(v), nil
}

// data is the content of the ConfigMap or Secret name in the pod's
// namespace: the render's, else the API server's.
func (p *pod) data(kind, name string, optional *bool) (map[string][]byte, error) {
	for _, u := range p.opts.Objects {
		if u.GetKind() != kind || u.GroupVersionKind().Group != "" || u.GetName() != name || u.GetNamespace() != p.namespace {
			continue
		}
		return objectData(u)
	}
	live := &unstructured.Unstructured{}
	live.SetAPIVersion("v1")
	live.SetKind(kind)
	err := p.live.Get(p.ctx, client.ObjectKey{Namespace: p.namespace, Name: name}, live)
	switch {
	case err == nil:
		return objectData(live)
	case apierrors.IsNotFound(err) && optional != nil && *optional:
		return nil, nil
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("%s %s/%s is neither rendered nor in the cluster", kind, p.namespace, name)
	}
	return nil, fmt.Errorf("%s %s/%s: %w", kind, p.namespace, name, err)
}

// objectData reads data, binaryData and stringData of a ConfigMap or Secret.
func objectData(u *unstructured.Unstructured) (map[string][]byte, error) {
	out := map[string][]byte{}
	secret := u.GetKind() == "Secret"
	for _, field := range []string{"data", "binaryData", "stringData"} {
		m, _, err := unstructured.NestedStringMap(u.Object, field)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		for k, v := range m {
			if field == "binaryData" || (secret && field == "data") {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %s.%s: %w", u.GetKind(), u.GetName(), field, k, err)
				}
				out[k] = b
				continue
			}
			out[k] = []byte(v)
		}
	}
	return out, nil
}

// layOut writes each volume the container mounts under root at its mount
// path.
func (p *pod) layOut(root string) error {
	volumes := map[string]corev1.Volume{}
	for _, v := range p.spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range p.container.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %s: no such volume", m.Name)
		}
		files, err := p.volumeFiles(v)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		dir := filepath.Join(root, m.MountPath)
		if m.SubPath != "" {
			b, ok := files[m.SubPath]
			if !ok {
				return fmt.Errorf("volume %s has no %s (subPath of %s)", v.Name, m.SubPath, m.MountPath)
			}
			files, dir = map[string][]byte{filepath.Base(dir): b}, filepath.Dir(dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(files)) {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// volumeFiles is the content of a volume: file path (relative) → bytes.
func (p *pod) volumeFiles(v corev1.Volume) (map[string][]byte, error) {
	switch {
	case v.ConfigMap != nil:
		data, err := p.data("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional)
		return project(data, v.ConfigMap.Items), err
	case v.Secret != nil:
		data, err := p.data("Secret", v.Secret.SecretName, v.Secret.Optional)
		return project(data, v.Secret.Items), err
	case v.EmptyDir != nil:
		return nil, nil
	case v.Projected != nil:
		// Service account tokens and the cluster CA: the process talks
		// to the API server through its kubeconfig instead.
		return nil, nil
	}
	return nil, fmt.Errorf("volume type not laid out by the harness")
}

// project applies a volume's items (key → path); without items every key
// is a file of its name.
func project(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if b, ok := data[it.Key]; ok {
			out[it.Path] = b
		}
	}
	return out
}
