package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A made-up filtercheck table in the shape libsinsp uses.
const checkSrc = `
// comment with "quotes" and {braces}
static const filtercheck_field_info sinsp_filter_check_demo_fields[] = {
        {PT_CHARBUF, EPF_NONE, PF_NA, "demo.name", "Name", "the name, " "split"},
        {PT_INT64,
         (filtercheck_field_flags)(EPF_FILTER_ONLY | EPF_ARG_REQUIRED),
         PF_DEC,
         "demo.idx",
         "Index",
         "needs {an} index"},
        {PT_CHARBUF, EPF_ARG_ALLOWED | EPF_ARG_KEY, PF_NA, "demo.env", "Env", "key"},
        /* {PT_CHARBUF, EPF_NONE, PF_NA, "demo.commented", "", ""}, */
        {PT_RELTIME, EPF_PRINT_ONLY, PF_DEC, "demo.outputonly", "Out", "x"},
};
`

// A made-up plugin get_fields() in the shape of the plugin SDK for C++.
const pluginSrc = `
std::vector<falcosecurity::field_info> my_plugin::get_fields()
{
    using ft = falcosecurity::field_value_type;
    falcosecurity::field_arg req_key_arg;
    req_key_arg.key = true;
    req_key_arg.required = true;
    falcosecurity::field_arg opt_idx;
    opt_idx.index = true;
    const falcosecurity::field_info fields[] = {
            {ft::FTYPE_STRING, "plug.id", "ID", "the id", {}, false, {}, true},
            {ft::FTYPE_STRING, "plug.label", "Label", "E.g. 'plug.label.foo'.", req_key_arg},
            {ft::FTYPE_UINT64, "plug.n", "N", "n", opt_idx},
    };
    return std::vector<falcosecurity::field_info>(fields, fields + 3);
}
`

func TestLibsinspFields(t *testing.T) {
	got, err := libsinspFields([]byte(checkSrc))
	if err != nil {
		t.Fatal(err)
	}
	want := []field{
		{name: "demo.name", filterOK: true, printOK: true},
		{name: "demo.idx", arg: "required", filterOK: true},
		{name: "demo.env", arg: "optional", argForm: "key", filterOK: true, printOK: true},
		{name: "demo.outputonly", printOK: true},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(field{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := libsinspFields([]byte("int x = 1;")); err == nil {
		t.Error("no error for a source without a table")
	}
}

func TestPluginFields(t *testing.T) {
	got, err := pluginFields([]byte(pluginSrc))
	if err != nil {
		t.Fatal(err)
	}
	want := []field{
		{name: "plug.id", filterOK: true, printOK: true},
		{name: "plug.label", arg: "required", argForm: "key", filterOK: true, printOK: true},
		{name: "plug.n", arg: "optional", argForm: "index", filterOK: true, printOK: true},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(field{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRegenerate rebuilds the committed facts from the upstream sources when
// they are available (FALCO_LIBS_DIR, FALCO_PLUGINS_DIR, FALCO_RULES_FILE, as
// for go generate) and compares.
func TestRegenerate(t *testing.T) {
	libs, plugins, rules := os.Getenv("FALCO_LIBS_DIR"), os.Getenv("FALCO_PLUGINS_DIR"), os.Getenv("FALCO_RULES_FILE")
	if libs == "" || plugins == "" || rules == "" {
		t.Skip("FALCO_LIBS_DIR, FALCO_PLUGINS_DIR and FALCO_RULES_FILE not set")
	}
	out := t.TempDir()
	args := []string{
		"-falco", "0.44.1", "-engine", "0.62.0",
		"-libs", libs, "-libs-ref", "0.25.4@80e695f6b123c26574cbc0f9230b33c911c71c49",
		"-plugins", plugins, "-plugins-ref", "plugins/container/v0.7.1@21d3ee6df859604a93f3ff41e9b9f0b56495740e",
		"-rules", rules, "-rules-ref", "falco-rules-5.1.0@6cbb113dd3fbcaf157c077414a57d2180f3e0eec",
		"-out", out,
	}
	var stderr strings.Builder
	if err := run(args, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, name := range []string{"falco-0.44.1-fields.txt", "falco-0.44.1-stock.txt"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "facts", name))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is not what the generator writes (-committed +generated):\n%s", name, diff)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var stderr strings.Builder
	if err := run([]string{"-falco", "0.44.1"}, &stderr); err == nil || !strings.Contains(err.Error(), "is required") {
		t.Errorf("err = %v", err)
	}
}
