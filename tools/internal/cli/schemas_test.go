package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// TestValidateBuiltin validates built-in and Flux kinds strictly: every
// broken field is one finding naming the field, the look-alikes pass.
func TestValidateBuiltin(t *testing.T) {
	f := loadFixture(t, filepath.Join("testdata", "validate-builtin.txtar"), localEnv(t))
	code, stdout, stderr := run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--skip-kind", "example.com/Gizmo"}, f.args...)...)
	where := " (Kustomization/flux-system/flux-system from clusters/test/apps.yaml)\n"
	want := "clusters/test: ConfigMap/apps/falco-rules (Kustomization/flux-system/flux-system from clusters/test/kustomization.yaml)\n" +
		"  error falco-rules: clusters/test/rules/custom-rules.yaml:17: rule \"Unknown priority\": invalid priority \"loud\" (one of emergency, alert, critical, error, warning, notice, informational, info, debug, any case)\n" +
		"  warning falco-rules: clusters/test/rules/custom-rules.yaml:4: macro \"never_used\": macro is not used by any rule, macro or list\n" +
		"  error falco-rules: clusters/test/rules/custom-rules.yaml:9: rule \"Shell in apps\": condition: unknown field proc.nmae at column 67\n" +
		"clusters/test: Deployment/apps/bad" + where +
		"  error schema: spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"\n" +
		"  error schema: spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"\n" +
		"  error schema: spec.template.spec.containers[1].name: Required value\n" +
		"  error schema: unknown field \"spec.template.spec.containers[0].imagePullSecret\"\n" +
		"clusters/test: GitRepository/apps/bad" + where +
		"  error schema: spec.provider: Unsupported value: \"gitlab\": supported values: \"generic\", \"aws\", \"azure\", \"github\"\n" +
		"clusters/test: Secret/apps/creds" + where +
		"  error schema: data.bad: Invalid value: \"not-base64!\": data.bad in body must be base64\n" +
		"clusters/test: Servic/apps/typo" + where +
		"  error api-lifecycle: v1 has no kind Servic in Kubernetes 1.36\n" +
		"10 findings (9 errors, 1 warnings)\n"
	if code != ExitFindings || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 1 and:\n%s\nstderr: %s", code, stdout, want, stderr)
	}
	// Annotations land on the rule file, not on the kustomization.yaml
	// that generated the ConfigMap.
	_, stdout, _ = run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--skip-kind", "example.com/Gizmo", "--format", "github"}, f.args...)...)
	if !strings.Contains(stdout, "::error file=clusters/test/rules/custom-rules.yaml,title=falco-rules ConfigMap/apps/falco-rules::") {
		t.Errorf("github format:\n%s", stdout)
	}
}

// TestSchemasFromCluster writes the schemas a real API server serves, a
// CRD installed there included, and validates with them: the Gizmo the
// render has no CRD for is checked against the cluster's. A server that
// cannot be reached is exit 2.
func TestSchemasFromCluster(t *testing.T) {
	env := testenv.Start(t)
	c := env.Client(t)
	testenv.CreateCRD(t, c, &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "gizmos.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "Gizmo", Plural: "gizmos"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"teeth": {Type: "integer"}}},
					},
				}},
			}},
		},
	})
	bundle := filepath.Join(t.TempDir(), "cluster.json.gz")
	code, _, stderr := run("schemas", "--kubeconfig", env.Kubeconfig(), "-o", bundle)
	if code != ExitOK || !strings.Contains(stderr, "wrote "+bundle+": Kubernetes v1.36.3") {
		t.Fatalf("schemas: exit %d: %s", code, stderr)
	}

	f := loadFixture(t, filepath.Join("testdata", "validate-builtin.txtar"), localEnv(t))
	code, stdout, stderr := run(append([]string{"validate", "--repo", f.repo, "--cache-dir", t.TempDir(), "--schemas", bundle}, f.args...)...)
	want := "  error schema: spec.teeth: Invalid value: \"string\": spec.teeth in body must be of type integer: \"string\"\n"
	if code != ExitFindings || !strings.Contains(stdout, "clusters/test: Gizmo/apps/g") || !strings.Contains(stdout, want) || !strings.Contains(stdout, "(10 errors, 1 warnings)") {
		t.Errorf("validate --schemas: exit %d, stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
	// A bundle of another version than an explicit --kube-version.
	code, _, stderr = run(append([]string{"validate", "--repo", f.repo, "--schemas", bundle, "--kube-version", "1.35"}, f.args...)...)
	if code != ExitError || !strings.Contains(stderr, "holds Kubernetes v1.36.3, but --kube-version is 1.35") {
		t.Errorf("version mismatch: exit %d: %s", code, stderr)
	}
	// Not a bundle.
	code, _, stderr = run(append([]string{"validate", "--repo", f.repo, "--schemas", filepath.Join(f.repo, "clusters", "test", "apps.yaml")}, f.args...)...)
	if code != ExitError || !strings.Contains(stderr, "apps.yaml: not a schema bundle") {
		t.Errorf("not a bundle: exit %d: %s", code, stderr)
	}

	// A server that is not there.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	data, err := os.ReadFile(env.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeconfig, []byte(strings.ReplaceAll(string(data), env.RESTConfig().Host, "https://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "none.json.gz")
	code, _, stderr = run("schemas", "--kubeconfig", kubeconfig, "-o", out)
	if _, statErr := os.Stat(out); code != ExitError || !strings.Contains(stderr, "api server https://127.0.0.1:1") || statErr == nil {
		t.Errorf("unreachable: exit %d, file written: %v: %s", code, statErr == nil, stderr)
	}
}
