package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aks-gitops/platform/tools/internal/flux"
)

func TestFindCycles(t *testing.T) {
	ks := func(n string) flux.Ref { return flux.RefTo("Kustomization", "ns", n) }
	tests := []struct {
		name string
		deps map[flux.Ref][]flux.Ref
		want [][]flux.Ref
	}{
		{name: "chain", deps: map[flux.Ref][]flux.Ref{ks("a"): {ks("b")}, ks("b"): {ks("c")}}},
		{name: "self", deps: map[flux.Ref][]flux.Ref{ks("a"): {ks("a")}}, want: [][]flux.Ref{{ks("a"), ks("a")}}},
		{
			name: "one cycle seen from two entries",
			deps: map[flux.Ref][]flux.Ref{ks("c"): {ks("a")}, ks("a"): {ks("b")}, ks("b"): {ks("c")}, ks("d"): {ks("b")}},
			want: [][]flux.Ref{{ks("a"), ks("b"), ks("c"), ks("a")}},
		},
		{
			name: "two cycles",
			deps: map[flux.Ref][]flux.Ref{ks("a"): {ks("b")}, ks("b"): {ks("a")}, ks("x"): {ks("y")}, ks("y"): {ks("x")}},
			want: [][]flux.Ref{{ks("a"), ks("b"), ks("a")}, {ks("x"), ks("y"), ks("x")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, findCycles(tt.deps)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
