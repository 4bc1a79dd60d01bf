package diff

import (
	"testing"

	"github.com/aks-gitops/platform/tools/internal/object"
)

func TestParseRules(t *testing.T) {
	for _, bad := range []string{"spec.replicas", "label:", "field:", "field:Deployment:", "thing:x", "label:[", "metadata:["} {
		if _, err := ParseRules([]string{bad}); err == nil {
			t.Errorf("ParseRules(%q): no error", bad)
		}
	}
	rules, err := ParseRules([]string{"metadata:team", "field:spec.template.spec.containers[*].image", "field:Deployment.apps:spec.replicas"})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Ignore: rules}
	deploy := object.ID{Group: "apps", Kind: "Deployment"}
	for _, tt := range []struct {
		id   object.ID
		path string
		want bool
	}{
		{deploy, "spec.template.spec.containers[name=web].image", true},
		{deploy, "spec.template.spec.containers[name=web].imagePullPolicy", false},
		{deploy, "spec.replicas", true},
		{object.ID{Kind: "ReplicaSet", Group: "apps"}, "spec.replicas", false},
		{deploy, "spec.replicasx", false},
	} {
		if got := o.matchField(tt.id, tt.path); got != tt.want {
			t.Errorf("matchField(%s, %s) = %v, want %v", tt.id, tt.path, got, tt.want)
		}
	}
	if !o.matchKey(RuleLabel, "team") || !o.matchKey(RuleAnnotation, "team") || o.matchKey(RuleLabel, "teams") {
		t.Error("metadata:team matches the label and the annotation team only")
	}
}
