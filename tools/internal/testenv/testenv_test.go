package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestEnv starts the real server once and checks what only a real server
// does: it is the version we build, it defaults and does not persist a
// server-side apply dry-run, and it serves a CRD with its schema enforced.
func TestEnv(t *testing.T) {
	env := Start(t)

	c := env.Client(t)

	t.Run("version", func(t *testing.T) {
		assertVersion(t, env.RESTConfig())
	})
	t.Run("kubeconfig", func(t *testing.T) {
		cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig())
		if err != nil {
			t.Fatal(err)
		}
		assertVersion(t, cfg)
	})
	t.Run("server-side apply dry-run defaults a Deployment", func(t *testing.T) {
		testApplyDryRun(t, c)
	})
	t.Run("CRD schema with strict field validation", func(t *testing.T) {
		testCRD(t, c)
	})
}

func assertVersion(t *testing.T, cfg *rest.Config) {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != Version {
		t.Errorf("server version = %q, want %q", v.GitVersion, Version)
	}
}

// deploymentDefaults are fields the apiserver fills in when a manifest leaves
// them out.
type deploymentDefaults struct {
	Replicas                int32
	Strategy                appsv1.DeploymentStrategyType
	MaxSurge                string
	MaxUnavailable          string
	RevisionHistoryLimit    int32
	ProgressDeadlineSeconds int32
	RestartPolicy           corev1.RestartPolicy
	DNSPolicy               corev1.DNSPolicy
	SchedulerName           string
	ImagePullPolicy         corev1.PullPolicy
	TerminationMessagePath  string
	Manager                 string
	Operation               metav1.ManagedFieldsOperationType
}

func testApplyDryRun(t *testing.T, c client.Client) {
	ctx := t.Context()
	obj := fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`)
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.DryRunAll, client.FieldOwner("testenv-test")); err != nil {
		t.Fatalf("apply --dry-run=server: %v", err)
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d); err != nil {
		t.Fatal(err)
	}
	got := deploymentDefaults{
		Replicas:                ptrValue(d.Spec.Replicas),
		Strategy:                d.Spec.Strategy.Type,
		RevisionHistoryLimit:    ptrValue(d.Spec.RevisionHistoryLimit),
		ProgressDeadlineSeconds: ptrValue(d.Spec.ProgressDeadlineSeconds),
		RestartPolicy:           d.Spec.Template.Spec.RestartPolicy,
		DNSPolicy:               d.Spec.Template.Spec.DNSPolicy,
		SchedulerName:           d.Spec.Template.Spec.SchedulerName,
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			got.MaxSurge = ru.MaxSurge.String()
		}
		if ru.MaxUnavailable != nil {
			got.MaxUnavailable = ru.MaxUnavailable.String()
		}
	}
	if cs := d.Spec.Template.Spec.Containers; len(cs) == 1 {
		got.ImagePullPolicy = cs[0].ImagePullPolicy
		got.TerminationMessagePath = cs[0].TerminationMessagePath
	}
	if mf := d.ManagedFields; len(mf) == 1 {
		got.Manager, got.Operation = mf[0].Manager, mf[0].Operation
	}
	want := deploymentDefaults{
		Replicas:                1,
		Strategy:                appsv1.RollingUpdateDeploymentStrategyType,
		MaxSurge:                "25%",
		MaxUnavailable:          "25%",
		RevisionHistoryLimit:    10,
		ProgressDeadlineSeconds: 600,
		RestartPolicy:           corev1.RestartPolicyAlways,
		DNSPolicy:               corev1.DNSClusterFirst,
		SchedulerName:           corev1.DefaultSchedulerName,
		ImagePullPolicy:         corev1.PullIfNotPresent,
		TerminationMessagePath:  corev1.TerminationMessagePathDefault,
		Manager:                 "testenv-test",
		Operation:               metav1.ManagedFieldsOperationApply,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults after apply --dry-run=server (-want +got):\n%s", diff)
	}

	// Dry-run: nothing was stored.
	err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "web"}, &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get after dry-run: err = %v, want NotFound", err)
	}
}

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.testenv.example.com
spec:
  group: testenv.example.com
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              x-kubernetes-validations:
                - rule: self.size <= 10 || self.colour == 'red'
                  message: only red widgets are larger than 10
              properties:
                size: {type: integer, minimum: 1}
                colour: {type: string, enum: [red, blue]}
`

func testCRD(t *testing.T, c client.Client) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict([]byte(widgetCRD), &crd); err != nil {
		t.Fatal(err)
	}
	CreateCRD(t, c, &crd)

	tests := []struct {
		name string
		spec string
		// wantErr is part of the server's message; empty means accepted.
		wantErr string
	}{
		{name: "valid", spec: `{size: 3, colour: blue}`},
		{name: "valid: CEL rule allows a large red one", spec: `{size: 20, colour: red}`},
		{name: "unknown field", spec: `{size: 3, shape: round}`, wantErr: `unknown field "spec.shape"`},
		{name: "wrong type", spec: `{size: "3"}`, wantErr: `spec.size: Invalid value: "string": spec.size in body must be of type integer`},
		{name: "missing required", spec: `{colour: red}`, wantErr: `spec.size: Required value`},
		{name: "enum", spec: `{size: 3, colour: green}`, wantErr: `spec.colour: Unsupported value: "green"`},
		{name: "minimum", spec: `{size: 0}`, wantErr: `spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1`},
		{name: "CEL rule", spec: `{size: 20, colour: blue}`, wantErr: `only red widgets are larger than 10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := fromYAML(t, `
apiVersion: testenv.example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
spec: `+tt.spec)
			err := c.Create(t.Context(), obj, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("create --dry-run=server: %v", err)
				}
				return
			}
			var status apierrors.APIStatus
			if !errors.As(err, &status) {
				t.Fatalf("create --dry-run=server: err = %v, want the server's rejection containing %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("create --dry-run=server: err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func fromYAML(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &obj.Object); err != nil {
		t.Fatal(err)
	}
	return obj
}

func ptrValue[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// TestScriptVersion keeps Version in step with the script that builds the
// binaries into a directory named after it.
func TestScriptVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "testenv.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^KUBE_VERSION=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("scripts/testenv.sh: no KUBE_VERSION= line")
	}
	if got := string(m[1]); got != Version {
		t.Errorf("scripts/testenv.sh builds %s, Version is %s", got, Version)
	}
}

func TestBinaryDir(t *testing.T) {
	withBinaries := t.TempDir()
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(withBinaries, name), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	onlyEtcd := t.TempDir()
	if err := os.WriteFile(filepath.Join(onlyEtcd, "etcd"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	tests := []struct {
		name              string
		assets, bin, xdg  string
		want, wantErrPart string
	}{
		{name: "KUBEBUILDER_ASSETS first", assets: withBinaries, bin: empty, want: withBinaries},
		{name: "KUBEBUILDER_ASSETS incomplete: cache dir", assets: onlyEtcd, bin: withBinaries, want: withBinaries},
		{name: "TESTENV_BIN", bin: withBinaries, want: withBinaries},
		{name: "XDG cache dir", xdg: t.TempDir(), wantErrPart: filepath.Join("aks-gitops", "testenv", Version)},
		{name: "missing: says what to run", assets: onlyEtcd, bin: empty, wantErrPart: "run: " + buildCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBEBUILDER_ASSETS", tt.assets)
			t.Setenv("TESTENV_BIN", tt.bin)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			got, err := binaryDir()
			if tt.wantErrPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrPart) {
					t.Fatalf("binaryDir() = %q, %v; want an error containing %q", got, err, tt.wantErrPart)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("binaryDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
