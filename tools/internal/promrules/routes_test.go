package promrules

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/testenv"
)

// repoRoot is this checkout, from the package directory.
const repoRoot = "../../.."

// alertCase is one alert as Alertmanager receives it and the receiver it
// must reach.
type alertCase struct {
	labels   map[string]string
	receiver string
}

// TestAlertRoutes runs the Alertmanager routing tree of our
// kube-prometheus-stack release through amtool (Alertmanager v0.34.0, the
// chart's) with one case per alert: each alert of our PrometheusRules as
// its labels say (security when category=security, else platform), the
// alerts Falcosidekick sends to Alertmanager with the labels Falcosidekick
// 2.31.1 sets and the extra labels our falco release configures (security),
// Watchdog (the heartbeat), InfoInhibitor (nowhere) and the chart's default
// alerts that matter (platform).
func TestAlertRoutes(t *testing.T) {
	amtool, err := testenv.Tool("amtool")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "alertmanager.yaml")
	values := releaseValues(t, "kube-prometheus-stack")
	amConfig, found, err := unstructured.NestedMap(values, "alertmanager", "config")
	if err != nil || !found {
		t.Fatalf("kube-prometheus-stack values: no alertmanager.config (%v)", err)
	}
	b, err := yaml.Marshal(amConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(amtool, "check-config", config).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}

	cases := ruleCases(t)
	if len(cases) == 0 {
		t.Fatal("no alert in our PrometheusRules")
	}
	cases = append(cases, falcosidekickCase(t),
		alertCase{map[string]string{"alertname": "Watchdog", "severity": "none"}, "heartbeat"},
		alertCase{map[string]string{"alertname": "InfoInhibitor", "severity": "none", "namespace": "monitoring"}, "null"},
	)
	// Flux's failures, labelled as notification-controller v1.9's
	// Alertmanager provider labels an event (internal/notifier/alertmanager.go:
	// alertname "Flux" + kind + the reason in title case, severity, reason,
	// kind, name, namespace, reportingcontroller): infrastructure/notifications
	// and the helm-release component's alerts.yaml.
	for _, ev := range [][3]string{
		{"Kustomization", "ReconciliationFailed", "kustomize-controller"},
		{"Kustomization", "HealthCheckFailed", "kustomize-controller"},
		{"HelmRelease", "InstallFailed", "helm-controller"},
		{"HelmRelease", "UpgradeFailed", "helm-controller"},
	} {
		kind, reason := ev[0], ev[1]
		cases = append(cases, alertCase{map[string]string{
			"alertname": "Flux" + kind + reason[:1] + strings.ToLower(reason[1:]),
			"severity":  "error", "reason": reason, "kind": kind, "name": "falco", "namespace": "falco",
			"reportingcontroller": ev[2],
		}, "platform"})
	}
	// kube-prometheus-stack's default rules that must reach a person.
	for name, severity := range map[string]string{
		"KubePodCrashLooping":            "warning",
		"KubeNodeNotReady":               "warning",
		"KubePersistentVolumeFillingUp":  "critical",
		"KubeDeploymentReplicasMismatch": "warning",
		"TargetDown":                     "warning",
		"NodeFilesystemSpaceFillingUp":   "critical",
		"PrometheusRuleFailures":         "critical",
		"AlertmanagerFailedToSendAlerts": "warning",
	} {
		cases = append(cases, alertCase{map[string]string{"alertname": name, "severity": severity, "namespace": "monitoring"}, "platform"})
	}

	for _, c := range cases {
		t.Run(c.labels["alertname"], func(t *testing.T) {
			args := []string{"config", "routes", "test", "--config.file=" + config, "--verify.receivers=" + c.receiver}
			for _, k := range slices.Sorted(maps.Keys(c.labels)) {
				args = append(args, fmt.Sprintf("%s=%q", k, c.labels[k]))
			}
			out, err := exec.Command(amtool, args...).CombinedOutput()
			if err != nil {
				t.Errorf("labels %v: want receiver %s: %v\n%s", c.labels, c.receiver, err, out)
			}
		})
	}
}

// ruleCases is one case per alert of infrastructure/configs/base/monitoring/rules.
func ruleCases(t *testing.T) []alertCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "infrastructure", "configs", "base", "monitoring", "rules", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []alertCase
	for _, f := range files {
		var rule struct {
			Metadata struct{ Namespace string }
			Spec     struct {
				Groups []struct {
					Rules []struct {
						Alert  string
						Labels map[string]string
					}
				}
			}
		}
		readYAML(t, f, &rule)
		for _, g := range rule.Spec.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				labels := map[string]string{"alertname": r.Alert, "namespace": rule.Metadata.Namespace}
				maps.Copy(labels, r.Labels)
				receiver := "platform"
				if labels["category"] == "security" {
					receiver = "security"
				}
				cases = append(cases, alertCase{labels, receiver})
			}
		}
	}
	return cases
}

// falcosidekickCase is an alert of Falcosidekick's Alertmanager output:
// the labels it sets (outputs/alertmanager.go at 2.31.1: source, rule,
// eventsource, priority, severity from its default map) and the extra
// labels of our falco release (config.alertmanager.extralabels).
func falcosidekickCase(t *testing.T) alertCase {
	t.Helper()
	labels := map[string]string{
		"alertname":   "Falco",
		"source":      "falco",
		"rule":        "Shell Spawned by Java Process in crAPI",
		"eventsource": "syscall",
		"priority":    "Critical",
		"severity":    "critical",
	}
	extra, _, err := unstructured.NestedString(releaseValues(t, "falco"), "falcosidekick", "config", "alertmanager", "extralabels")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(extra, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), ":"); ok {
			labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return alertCase{labels, "security"}
}

// releaseValues is spec.values of infrastructure/controllers/base/<name>/release.yaml.
func releaseValues(t *testing.T, name string) map[string]any {
	t.Helper()
	var hr struct {
		Spec struct{ Values map[string]any }
	}
	readYAML(t, filepath.Join(repoRoot, "infrastructure", "controllers", "base", name, "release.yaml"), &hr)
	if hr.Spec.Values == nil {
		t.Fatalf("%s: no spec.values", name)
	}
	return hr.Spec.Values
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", path, err))
	}
}
