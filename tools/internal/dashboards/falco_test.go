package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the generated Falco dashboards")

const (
	repoRoot   = "../../.."
	rulesFile  = "infrastructure/controllers/base/falco/rules/crapi-rules.yaml"
	dashboards = "infrastructure/configs/base/dashboards/json"
)

// stockURL is the stock rules file at the commit our Falco loads, read from
// the falcorules facts (their header names the falcosecurity/rules ref).
func stockURL(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "tools/internal/falcorules/facts/falco-*-stock.txt"))
	if err != nil || len(files) != 1 {
		t.Fatalf("stock rule facts: %v %v", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^# rules [^@\s]+@([0-9a-f]{40}): (\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no '# rules REF@SHA: FILE' line", files[0])
	}
	return "https://github.com/falcosecurity/rules/blob/" + string(m[1]) + "/" + string(m[2])
}

// TestFalcoDashboardsCurrent regenerates the Falco rules dashboard and the
// events dashboard's rule links from our rule file; the committed files
// must be what they give (-update rewrites them).
func TestFalcoDashboardsCurrent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ReadFalcoRules(data)
	if err != nil || len(rules) == 0 {
		t.Fatalf("%s: %d rules, %v", rulesFile, len(rules), err)
	}
	url := stockURL(t)
	rulesJSON, err := FalcoRulesDashboard(rules, rulesFile, url)
	if err != nil {
		t.Fatal(err)
	}
	eventsPath := filepath.Join(repoRoot, dashboards, "falco-events.json")
	events, err := os.ReadFile(eventsPath)
	if err != nil {
		t.Fatal(err)
	}
	eventsJSON, err := LinkFalcoEvents(events, rules, url)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{filepath.Join(repoRoot, dashboards, "falco-rules.json"): rulesJSON, eventsPath: eventsJSON} {
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is stale: go test ./tools/internal/dashboards -run TestFalcoDashboardsCurrent -update (-want +got):\n%s", path, diff)
		}
	}
}

func TestReadFalcoRules(t *testing.T) {
	rules, err := ReadFalcoRules([]byte(`
- required_engine_version: 0.31.0
- list: shells
  items: [sh]
- rule: Shell in app
  desc: a shell
  condition: spawned_process and proc.name in (shells)
  output: shell (cmd=%proc.cmdline)
  priority: WARNING
  tags: [shell, T1059]
  exceptions:
    - name: init
      fields: [proc.cmdline]
- rule: Shell in app
  append: true
  condition: and not proc.pname = init
- rule: Other
  override: {condition: replace}
  condition: never
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []FalcoRule{{
		Name: "Shell in app", Desc: "a shell", Condition: "spawned_process and proc.name in (shells)",
		Output: "shell (cmd=%proc.cmdline)", Priority: "WARNING", Tags: []string{"shell", "T1059"}, Exceptions: []string{"init"},
	}}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLinkFalcoEvents(t *testing.T) {
	events := []byte(`{"uid": "e", "title": "E", "panels": [
		{"id": 1, "targets": [{"expr": "x", "legendFormat": "{{priority_raw}}"}]},
		{"id": 2, "targets": [{"expr": "y", "legendFormat": "{{rule}} ({{k8s_ns_name}})"}]}]}`)
	rules := []FalcoRule{{Name: "Shell (in) app"}}
	out, err := LinkFalcoEvents(events, rules, "https://stock")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			FieldConfig *struct {
				Defaults  struct{ Links []struct{ URL string } }
				Overrides []struct {
					Matcher    struct{ Options string }
					Properties []struct {
						Value []struct{ URL string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	if d.Panels[0].FieldConfig != nil {
		t.Errorf("panel by priority got links: %+v", d.Panels[0].FieldConfig)
	}
	fc := d.Panels[1].FieldConfig
	if fc == nil || len(fc.Defaults.Links) != 1 || fc.Defaults.Links[0].URL != "https://stock" || len(fc.Overrides) != 1 {
		t.Fatalf("panel by rule: %+v", fc)
	}
	re := regexp.MustCompile(fc.Overrides[0].Matcher.Options)
	for name, match := range map[string]bool{"Shell (in) app": true, "Shell (in) app (crapi)": true, "Shell (in) apps": false, "xShell (in) app": false} {
		if re.MatchString(name) != match {
			t.Errorf("matcher %q on %q: %v, want %v", re, name, !match, match)
		}
	}
	if got := fc.Overrides[0].Properties[0].Value[0].URL; got != "/d/"+FalcoRulesUID+"/falco-rules?viewPanel=panel-2" {
		t.Errorf("link %s", got)
	}
	if _, err := LinkFalcoEvents([]byte(`{"panels": [{"targets": [{"legendFormat": "{{priority}}"}]}]}`), rules, "u"); err == nil || !strings.Contains(err.Error(), "no panel") {
		t.Errorf("no rule panel: %v", err)
	}
	if !bytes.HasSuffix(out, []byte("\n")) {
		t.Error("no final newline")
	}
}
