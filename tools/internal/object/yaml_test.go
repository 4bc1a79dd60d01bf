package object

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
	"sigs.k8s.io/yaml"
)

// equalYAML fails when MarshalYAML and sigs.k8s.io/yaml.Marshal write obj
// differently.
func equalYAML(t *testing.T, what string, obj map[string]any) {
	t.Helper()
	want, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, err := MarshalYAML(obj)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: MarshalYAML differs from sigs.k8s.io/yaml.Marshal:\n--- got\n%s--- want\n%s", what, got, want)
	}
}

// TestMarshalYAMLMatchesSigsYAML: on the values YAML makes awkward and on
// every object of the repository's manifests and the test fixtures, the
// fast path writes the bytes sigs.k8s.io/yaml writes.
func TestMarshalYAMLMatchesSigsYAML(t *testing.T) {
	awkward := []any{
		"", " ", "yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", "NaN", ".inf", "-.inf",
		"0", "007", "0x1F", "0o17", "1e3", "1.0", "+1", "-0", "1_000", "12:30", "2026-12-07", "2026-12-07T04:25:51Z",
		"a: b", "- x", "#c", "&a", "*a", "!t", "%x", "@x", "`x", "|", ">", "{", "[", "'q'", `"q"`, "a\nb\n", "a\n\nb",
		"trailing ", "\ttab", "line\r\nbreak", "ünïcödé", "emoji 🚀", "\u2028", "\x00nul", "bad \xff utf8", "<&>",
		strings.Repeat("long words ", 30), strings.Repeat("x", 200),
		int64(0), int64(-1), int64(9007199254740993), int64(-9223372036854775808), float64(0.1), float64(1e21),
		float64(1.5e-7), float64(-2.5), float64(1e6), float64(3), math.Copysign(0, -1), float64(1234567.5), float64(1e20),
		float64(9.3e18), float64(1.9e19), float64(-9.3e18), float64(1e-7), float64(123.456), true, false, nil,
		map[string]any{},
		[]any{},
		[]any{nil, "a", int64(1), map[string]any{"k": []any{}}},
		map[string]any{"a10": 1.0, "a9": "x", "A": true, "b": nil, "1": "one", "10": "ten", "2": "two", "": "empty", "a b": "s", "é": "e"},
	}
	for i, v := range awkward {
		equalYAML(t, "value "+strings.TrimSpace(strings.Repeat(" ", i%2)+string(rune('a'+i%26))), map[string]any{"data": map[string]any{"v": v}, "list": []any{v}})
	}

	// Every manifest of the repository and the fixtures, decoded into the
	// object model.
	root := filepath.Join("..", "..", "..")
	n := 0
	for _, dir := range []string{"clusters", "infrastructure", "apps", "policies", "testdata", filepath.Join("tools", "internal", "cli", "testdata")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			var docs [][]byte
			switch filepath.Ext(path) {
			case ".yaml", ".yml":
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				docs = append(docs, data)
			case ".txtar":
				// The render fixtures: their inputs and golden outputs.
				ar, err := txtar.ParseFile(path)
				if err != nil {
					return err
				}
				for _, f := range ar.Files {
					docs = append(docs, f.Data)
				}
			}
			for _, data := range docs {
				objs, err := Decode(data)
				if err != nil {
					continue // templates and deliberately broken fixtures
				}
				for _, o := range objs {
					equalYAML(t, path, o.Object)
					n++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 500 {
		t.Errorf("only %d objects compared", n)
	}
	t.Logf("%d objects written alike", n)
}

// TestLargerThan checks the size estimate against the JSON it stands for:
// within a factor of two either way on objects of every shape.
func TestLargerThan(t *testing.T) {
	for _, obj := range []map[string]any{
		{"kind": "ConfigMap", "data": map[string]any{"k": strings.Repeat("x", 5000)}},
		{"kind": "List", "items": slices.Repeat([]any{int64(1), true, nil, 2.5}, 2000)},
		{"kind": "Deep", "spec": map[string]any{"a": []any{map[string]any{"b": []any{"c", "d"}}}}},
		{},
	} {
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(data); LargerThan(obj, 2*n) || (n > 8 && !LargerThan(obj, n/2)) {
			t.Errorf("%s: JSON of %d bytes: LargerThan(%d) = %v, LargerThan(%d) = %v", obj["kind"], n, 2*n, LargerThan(obj, 2*n), n/2, LargerThan(obj, n/2))
		}
	}
}
