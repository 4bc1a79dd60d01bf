package apilifecycle

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCheck(t *testing.T) {
	v136 := Version{1, 36}
	tests := []struct {
		name   string
		gvk    schema.GroupVersionKind
		target Version
		want   *Finding
	}{
		{name: "GA", gvk: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, target: v136},
		{name: "core", gvk: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, target: v136},
		{name: "custom resource", gvk: schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}, target: v136},
		{
			name: "removed", gvk: schema.GroupVersionKind{Group: "policy", Version: "v1beta1", Kind: "PodDisruptionBudget"}, target: v136,
			want: &Finding{Severity: Error, Message: "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25: use policy/v1 PodDisruptionBudget"},
		},
		{
			name: "deprecated, not yet removed", gvk: schema.GroupVersionKind{Group: "policy", Version: "v1beta1", Kind: "PodDisruptionBudget"}, target: Version{1, 22},
			want: &Finding{Severity: Warning, Message: "policy/v1beta1 PodDisruptionBudget is deprecated since Kubernetes 1.21 and removed in 1.25: use policy/v1 PodDisruptionBudget"},
		},
		{name: "before deprecation", gvk: schema.GroupVersionKind{Group: "policy", Version: "v1beta1", Kind: "PodDisruptionBudget"}, target: Version{1, 20}},
		{
			name: "moved group", gvk: schema.GroupVersionKind{Group: "extensions", Version: "v1beta1", Kind: "Ingress"}, target: v136,
			want: &Finding{Severity: Error, Message: "extensions/v1beta1 Ingress was removed in Kubernetes 1.22: use networking.k8s.io/v1 Ingress"},
		},
		{
			name: "version unknown to the API", gvk: schema.GroupVersionKind{Group: "apps", Version: "v9", Kind: "Deployment"}, target: v136,
			want: &Finding{Severity: Error, Message: "apps/v9 Deployment is not served by Kubernetes 1.36: use apps/v1"},
		},
		{
			name: "kind unknown to the group", gvk: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deploymnet"}, target: v136,
			want: &Finding{Severity: Error, Message: "apps/v1 has no kind Deploymnet in Kubernetes 1.36"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Check(tt.gvk, tt.target)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
