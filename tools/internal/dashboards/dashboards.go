// Package dashboards checks the Grafana dashboards a render ships as
// ConfigMaps for Grafana's dashboard sidecar: every dashboard file is valid
// JSON with a title, and no two dashboards share a uid (Grafana keeps one of
// them silently).
package dashboards

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Label marks a ConfigMap as dashboards for the sidecar (kube-prometheus-stack's
// default sidecar label).
const Label = "grafana_dashboard"

// Finding is a problem with one dashboard file.
type Finding struct {
	Object  *unstructured.Unstructured
	Key     string
	Message string
}

// Check checks every dashboard ConfigMap among objs, in order.
func Check(objs []*unstructured.Unstructured) []Finding {
	var out []Finding
	uids := map[string]string{} // uid -> namespace/name[key] that has it
	for _, u := range objs {
		if u.GetKind() != "ConfigMap" || u.GetAPIVersion() != "v1" {
			continue
		}
		if _, ok := u.GetLabels()[Label]; !ok {
			continue
		}
		data, _, _ := unstructured.NestedStringMap(u.Object, "data")
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !strings.HasSuffix(k, ".json") {
				continue
			}
			var d struct {
				UID   string `json:"uid"`
				Title string `json:"title"`
			}
			if err := json.Unmarshal([]byte(data[k]), &d); err != nil {
				out = append(out, Finding{Object: u, Key: k, Message: fmt.Sprintf("dashboard %s is not valid JSON: %v", k, err)})
				continue
			}
			if d.Title == "" {
				out = append(out, Finding{Object: u, Key: k, Message: fmt.Sprintf("dashboard %s has no title", k)})
			}
			if d.UID == "" {
				continue // Grafana assigns one
			}
			where := fmt.Sprintf("%s/%s[%s]", u.GetNamespace(), u.GetName(), k)
			if prev, ok := uids[d.UID]; ok {
				out = append(out, Finding{Object: u, Key: k, Message: fmt.Sprintf("dashboard %s has uid %q, already used by %s", k, d.UID, prev)})
				continue
			}
			uids[d.UID] = where
		}
	}
	return out
}
