package object

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
)

// TestDigest wants one digest for equal content, whatever the order maps
// were filled in, and another for any change of a value or of its type.
func TestDigest(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "x", "labels": map[string]any{"a": "b", "c": "d"}},
			"data":     map[string]any{"n": int64(3), "f": 1.5, "ok": true, "none": nil, "list": []any{"a", int64(1)}},
		}
	}
	digest := func(obj map[string]any) string {
		t.Helper()
		d, err := Digest(obj)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := digest(base())
	reordered := map[string]any{}
	for _, k := range []string{"data", "metadata", "kind", "apiVersion"} {
		reordered[k] = base()[k]
	}
	if got := digest(reordered); got != want {
		t.Errorf("another insertion order: %s, want %s", got, want)
	}
	changes := map[string]func(o map[string]any){
		"string":           func(o map[string]any) { o["kind"] = "Secret" },
		"int":              func(o map[string]any) { o["data"].(map[string]any)["n"] = int64(4) },
		"int as float":     func(o map[string]any) { o["data"].(map[string]any)["n"] = float64(3) },
		"int as string":    func(o map[string]any) { o["data"].(map[string]any)["n"] = "3" },
		"bool":             func(o map[string]any) { o["data"].(map[string]any)["ok"] = false },
		"null as empty":    func(o map[string]any) { o["data"].(map[string]any)["none"] = "" },
		"list order":       func(o map[string]any) { o["data"].(map[string]any)["list"] = []any{int64(1), "a"} },
		"key moved":        func(o map[string]any) { o["metadata"].(map[string]any)["labels"] = map[string]any{"a": "bc", "": "d"} },
		"key and value":    func(o map[string]any) { o["metadata"].(map[string]any)["labels"] = map[string]any{"ab": "", "c": "d"} },
		"list to map":      func(o map[string]any) { o["data"].(map[string]any)["list"] = map[string]any{"a": int64(1)} },
		"not from JSON":    func(o map[string]any) { o["data"].(map[string]any)["n"] = 3 },
		"long string":      func(o map[string]any) { o["data"].(map[string]any)["f"] = strings.Repeat("x", 10000) },
		"key added":        func(o map[string]any) { o["extra"] = nil },
		"nested list item": func(o map[string]any) { o["data"].(map[string]any)["list"] = []any{"a", []any{int64(1)}} },
	}
	seen := map[string]string{want: "unchanged"}
	for name, change := range changes {
		o := base()
		change(o)
		got := digest(o)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: the digest of %s", name, prev)
		}
		seen[got] = name
	}
}

// BenchmarkDigest compares the digest with hashing the object's JSON, what
// it was before.
func BenchmarkDigest(b *testing.B) {
	obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "web", "team": "a"}}}
	var containers []any
	for range 20 {
		containers = append(containers, map[string]any{"name": "c", "image": "registry.example.com/web:1.0.0", "args": []any{"--port", int64(8080)}, "resources": map[string]any{"limits": map[string]any{"cpu": "100m", "memory": "128Mi"}}})
	}
	obj["spec"] = map[string]any{"replicas": int64(2), "template": map[string]any{"spec": map[string]any{"containers": containers}}}
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			if _, err := Digest(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			data, err := json.Marshal(obj)
			if err != nil {
				b.Fatal(err)
			}
			sha256.Sum256(data)
		}
	})
}
