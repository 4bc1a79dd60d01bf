package chartserver

// These tests check the charts under testdata/charts with Helm's own
// linter and renderer, so a broken fixture fails here rather than as a
// confusing renderer failure.

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

const serviceMonitorAPI = "monitoring.coreos.com/v1/ServiceMonitor"

// password satisfies demo-app 2.0.0's required auth.password.
var password = map[string]any{"auth": map[string]any{"password": "s3cret"}}

// rendered is what a client-only install produced, reduced to what the tests
// compare.
type rendered struct {
	objects []string          // "Kind name", sorted
	hooks   []string          // "Kind name events weight", sorted
	docs    map[string]string // "Kind name" -> manifest, hooks included
	notes   string
}

// render installs c in client-only dry-run mode, as `helm template` does,
// with the release "web" in namespace "demo".
func render(t *testing.T, c *chart.Chart, vals map[string]any, apis ...string) (*rendered, error) {
	t.Helper()
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = "web"
	install.Namespace = "demo"
	install.Replace = true
	install.IncludeCRDs = true
	install.APIVersions = common.VersionSet(apis)
	r, err := install.RunWithContext(t.Context(), c, vals)
	if err != nil {
		return nil, err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		t.Fatalf("install returned %T, want *release.Release", r)
	}

	_, manifests, err := releaseutil.SortManifests(releaseutil.SplitManifests(rel.Manifest), nil, releaseutil.InstallOrder)
	if err != nil {
		t.Fatalf("split manifest: %v", err)
	}
	out := &rendered{docs: map[string]string{}, notes: rel.Info.Notes}
	for _, m := range manifests {
		key := m.Head.Kind + " " + m.Head.Metadata.Name
		out.objects = append(out.objects, key)
		out.docs[key] = m.Content
	}
	for _, h := range rel.Hooks {
		var events []string
		for _, e := range h.Events {
			events = append(events, string(e))
		}
		out.hooks = append(out.hooks, strings.Join([]string{h.Kind, h.Name, strings.Join(events, ","), strconv.Itoa(h.Weight)}, " "))
		out.docs[h.Kind+" "+h.Name] = h.Manifest
	}
	sort.Strings(out.objects)
	sort.Strings(out.hooks)
	return out, nil
}

// load loads a chart directory and adds the charts in depDirs as
// dependencies, as a renderer resolving them from a local directory would.
func load(t *testing.T, dir string, depDirs ...string) *chart.Chart {
	t.Helper()
	c, err := loader.LoadDir(chartDir(dir))
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	for _, d := range depDirs {
		dep, err := loader.LoadDir(chartDir(d))
		if err != nil {
			t.Fatalf("load %s: %v", d, err)
		}
		c.AddDependency(dep)
	}
	return c
}

func TestChartsLint(t *testing.T) {
	tests := []struct {
		dir  string
		vals map[string]any
		// vendor is copied into a copy of dir's charts/ first, for charts that
		// deliberately do not vendor their dependencies.
		vendor []string
	}{
		{dir: "demo-lib-0.1.0"},
		{dir: "demo-app-1.0.0"},
		{dir: "demo-app-1.2.0"},
		{dir: "demo-app-2.0.0", vals: password, vendor: []string{"demo-lib-0.1.0"}},
		{dir: "demo-db-0.3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := chartDir(tt.dir)
			if len(tt.vendor) > 0 {
				dir = filepath.Join(t.TempDir(), tt.dir)
				if err := os.CopyFS(dir, os.DirFS(chartDir(tt.dir))); err != nil {
					t.Fatal(err)
				}
				for _, v := range tt.vendor {
					c, err := loader.LoadDir(chartDir(v))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.CopyFS(filepath.Join(dir, "charts", c.Name()), os.DirFS(chartDir(v))); err != nil {
						t.Fatal(err)
					}
				}
			}
			result := lint.RunAll(dir, tt.vals, "demo")
			for _, m := range result.Messages {
				if m.Severity >= support.WarningSev {
					t.Error(m)
				} else {
					t.Log(m)
				}
			}
		})
	}
}

func TestChartsRender(t *testing.T) {
	appObjects := func(prefix string, serviceMonitor bool) []string {
		objs := []string{
			"ConfigMap " + prefix,
			"CustomResourceDefinition widgets.demo.example.com",
			"Deployment " + prefix,
			"Secret " + prefix,
			"Service " + prefix,
			"Widget " + prefix,
		}
		if serviceMonitor {
			objs = append(objs, "ServiceMonitor "+prefix)
		}
		sort.Strings(objs)
		return objs
	}
	appHooks := func(prefix string) []string {
		return []string{
			"Job " + prefix + "-migrate pre-install,pre-upgrade -5",
			"Pod " + prefix + "-test-connection test 0",
		}
	}

	tests := []struct {
		name string
		dir  string
		deps []string
		vals map[string]any
		apis []string

		wantObjects  []string
		wantHooks    []string
		wantSnippets map[string][]string // "Kind name" -> substrings of its manifest
		wantNotes    []string
	}{
		{
			name:        "demo-app 1.0.0 with the monitoring API",
			dir:         "demo-app-1.0.0",
			apis:        []string{serviceMonitorAPI},
			wantObjects: appObjects("web-demo-app", true),
			wantHooks:   appHooks("web-demo-app"),
			wantSnippets: map[string][]string{
				"Deployment web-demo-app": {
					"replicas: 2",
					"app.kubernetes.io/component: web",
					`image: "ghcr.io/example/demo-app:1.0.0"`,
					"checksum/config: ",
					"- name: LOG_LEVEL\n              value: \"info\"",
					"memory: 128Mi",
				},
				"ConfigMap web-demo-app": {
					`greeting: "Hello from web"`,
					`app.properties: "release=web\nnamespace=demo\nservice=web-demo-app\n"`,
				},
				"Secret web-demo-app":                               {`password: ""`},
				"Job web-demo-app-migrate":                          {`"helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded`, `command: ["/app/demo-app","migrate"]`},
				"Pod web-demo-app-test-connection":                  {"http://web-demo-app:80/healthz"},
				"Widget web-demo-app":                               {"size: 3", "color: blue"},
				"ServiceMonitor web-demo-app":                       {"interval: 30s"},
				"CustomResourceDefinition widgets.demo.example.com": {"openAPIV3Schema:"},
			},
			wantNotes: []string{"http://web-demo-app.demo.svc:80"},
		},
		{
			name:        "demo-app 1.0.0 without the monitoring API",
			dir:         "demo-app-1.0.0",
			wantObjects: appObjects("web-demo-app", false),
			wantHooks:   appHooks("web-demo-app"),
			wantNotes:   []string{"No ServiceMonitor was rendered"},
		},
		{
			name: "demo-app 1.0.0 values through tpl",
			dir:  "demo-app-1.0.0",
			vals: map[string]any{
				"fullnameOverride": "{{ .Release.Name }}-frontend",
				"commonLabels":     map[string]any{"team": "{{ .Release.Namespace }}-team"},
				"podAnnotations":   map[string]any{"example.com/owner": "platform"},
				"env":              map[string]any{"ZED": "last", "ALPHA": "first"},
				"auth":             map[string]any{"password": "hunter2"},
			},
			wantObjects: appObjects("web-frontend", false),
			wantHooks:   appHooks("web-frontend"),
			wantSnippets: map[string][]string{
				"Deployment web-frontend": {
					// toYaml single-quoted the template before tpl ran.
					"team: 'demo-team'",
					"example.com/owner: platform",
					// Helm ranges over maps in key order.
					"- name: ALPHA\n              value: \"first\"\n            - name: LOG_LEVEL\n              value: \"info\"\n            - name: ZED",
				},
				"Secret web-frontend": {`password: "aHVudGVyMg=="`},
			},
		},
		{
			name:        "demo-app 1.2.0 with vendored demo-lib",
			dir:         "demo-app-1.2.0",
			apis:        []string{serviceMonitorAPI},
			wantObjects: appObjects("web-demo-app", true),
			wantHooks:   appHooks("web-demo-app"),
			wantSnippets: map[string][]string{
				"Deployment web-demo-app": {
					`image: "ghcr.io/example/demo-app:1.2.0"`,
					"runAsUser: 10001",
					"readOnlyRootFilesystem: true",
					"checksum/config: ",
					"app.kubernetes.io/component: web",
				},
			},
		},
		{
			name:        "demo-app 2.0.0 with demo-lib resolved locally",
			dir:         "demo-app-2.0.0",
			deps:        []string{"demo-lib-0.1.0"},
			vals:        map[string]any{"auth": map[string]any{"password": "s3cret"}, "replicaCount": 3},
			apis:        []string{serviceMonitorAPI},
			wantObjects: appObjects("web-demo-app", true),
			wantHooks:   appHooks("web-demo-app"),
			wantSnippets: map[string][]string{
				"Deployment web-demo-app": {
					"replicas: 3",
					"app.kubernetes.io/component: server",
					`image: "ghcr.io/example/demo-app:2.0.0"`,
					"runAsUser: 10001",
				},
				"Secret web-demo-app":                               {`password: "czNjcmV0"`},
				"Widget web-demo-app":                               {"shape: round"},
				"CustomResourceDefinition widgets.demo.example.com": {"shape:"},
			},
		},
		{
			name: "demo-db 0.3.0",
			dir:  "demo-db-0.3.0",
			vals: map[string]any{"persistence": map[string]any{"storageClassName": "fast"}},
			wantObjects: []string{
				"Secret web-demo-db-credentials",
				"Service web-demo-db-headless",
				"StatefulSet web-demo-db",
			},
			wantSnippets: map[string][]string{
				"StatefulSet web-demo-db": {
					"namespace: demo",
					"serviceName: web-demo-db-headless",
					"value: web-demo-db-0.web-demo-db-headless.demo.svc.cluster.local",
					"volumeClaimTemplates:",
					"storageClassName: fast",
					"storage: 1Gi",
				},
				"Service web-demo-db-headless":   {"clusterIP: None"},
				"Secret web-demo-db-credentials": {"namespace: demo", `username: "ZGVtbw=="`},
			},
			wantNotes: []string{"The password was generated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(t, load(t, tt.dir, tt.deps...), tt.vals, tt.apis...)
			if err != nil {
				t.Fatalf("render %s: %v", tt.dir, err)
			}
			if diff := cmp.Diff(tt.wantObjects, got.objects); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHooks, got.hooks); diff != "" {
				t.Errorf("hooks (-want +got):\n%s", diff)
			}
			for key, snippets := range tt.wantSnippets {
				doc, ok := got.docs[key]
				if !ok {
					t.Errorf("no %s rendered", key)
					continue
				}
				for _, s := range snippets {
					if !strings.Contains(doc, s) {
						t.Errorf("%s lacks %q:\n%s", key, s, doc)
					}
				}
			}
			for _, s := range tt.wantNotes {
				if !strings.Contains(got.notes, s) {
					t.Errorf("NOTES.txt lacks %q:\n%s", s, got.notes)
				}
			}
		})
	}
}

func TestChartsRenderErrors(t *testing.T) {
	tests := []struct {
		name      string
		dir       string
		deps      []string
		vals      map[string]any
		wantInErr string
	}{
		{
			// The fixture's point: demo-lib is declared but not vendored.
			name:      "demo-app 2.0.0 without its dependency",
			dir:       "demo-app-2.0.0",
			vals:      password,
			wantInErr: `no template "demo-lib.`,
		},
		{
			name:      "demo-app 2.0.0 without auth.password",
			dir:       "demo-app-2.0.0",
			deps:      []string{"demo-lib-0.1.0"},
			wantInErr: "auth.password is required since demo-app 2.0.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, load(t, tt.dir, tt.deps...), tt.vals)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("render error = %v, want one containing %q", err, tt.wantInErr)
			}
		})
	}
}

// TestDemoDBPassword pins the chart randomness a renderer has to cope with.
func TestDemoDBPassword(t *testing.T) {
	passwordRE := regexp.MustCompile(`(?m)^  password: "([^"]*)"$`)
	secretPassword := func(t *testing.T, vals map[string]any) string {
		t.Helper()
		got, err := render(t, load(t, "demo-db-0.3.0"), vals)
		if err != nil {
			t.Fatal(err)
		}
		m := passwordRE.FindStringSubmatch(got.docs["Secret web-demo-db-credentials"])
		if m == nil {
			t.Fatalf("no password in Secret:\n%s", got.docs["Secret web-demo-db-credentials"])
		}
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	first, second := secretPassword(t, nil), secretPassword(t, nil)
	if len(first) != 24 || first == second {
		t.Errorf("generated passwords %q and %q: want two different 24-character strings", first, second)
	}
	if got := secretPassword(t, map[string]any{"password": "fixed"}); got != "fixed" {
		t.Errorf("password with .Values.password set = %q, want %q", got, "fixed")
	}
}
