package helm

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/aks-gitops/platform/tools/internal/fieldpath"
)

// randomFuncs are the template functions whose output differs between two
// renders of the same input: random values, generated keys and
// certificates, salted hashes and the current time.
var randomFuncs = regexp.MustCompile(`\b(randAlphaNum|randAlpha|randNumeric|randAscii|randInt|randBytes|uuidv4|genPrivateKey|genCA|genCAWithKey|genSelfSignedCert|genSelfSignedCertWithKey|genSignedCert|genSignedCertWithKey|htpasswd|bcrypt|now|unixEpoch)\b`)

// usesRandomness reports whether any template of the chart or its
// dependencies calls one of randomFuncs.
func usesRandomness(ch *chart.Chart) bool {
	for _, t := range ch.Templates {
		if randomFuncs.Match(t.Data) {
			return true
		}
	}
	for _, d := range ch.Dependencies() {
		if usesRandomness(d) {
			return true
		}
	}
	return false
}

// markRandom compares two renders of the same input and records, on each
// document of a, the fields whose values differ in b: values from chart
// randomness, which a diff should ignore. Documents are matched by
// template and identity (Helm does not keep their order); one whose name is
// itself random is matched with the next unmatched document of the same
// template and kind, and one with no counterpart is random as a whole ("*").
func markRandom(a, b []Doc) error {
	if len(a) != len(b) {
		return fmt.Errorf("two renders of the same input differ in their number of objects (%d, %d): the chart's randomness changes its structure", len(a), len(b))
	}
	identity := func(d Doc) string {
		o := d.Object
		return strings.Join([]string{d.Template, o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName()}, "\x00")
	}
	byIdentity := map[string][]int{}
	for j, d := range b {
		byIdentity[identity(d)] = append(byIdentity[identity(d)], j)
	}
	used := make([]bool, len(b))
	match := make([]int, len(a))
	for i, d := range a {
		match[i] = -1
		if js := byIdentity[identity(d)]; len(js) > 0 {
			match[i], byIdentity[identity(d)] = js[0], js[1:]
			used[js[0]] = true
		}
	}
	for i, d := range a {
		for j := 0; match[i] < 0 && j < len(b); j++ {
			if !used[j] && b[j].Template == d.Template && b[j].Object.GetKind() == d.Object.GetKind() {
				match[i], used[j] = j, true
			}
		}
		var paths []string
		if match[i] < 0 {
			paths = []string{"*"}
		} else {
			diffPaths("", d.Object.Object, b[match[i]].Object.Object, &paths)
		}
		sort.Strings(paths)
		a[i].Random = paths
	}
	return nil
}

// diffPaths appends the dotted paths (list items as [i]) at which x and y
// differ, as deep as both are maps or lists.
func diffPaths(prefix string, x, y any, out *[]string) {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			*out = append(*out, prefix)
			return
		}
		keys := map[string]bool{}
		for k := range xv {
			keys[k] = true
		}
		for k := range yv {
			keys[k] = true
		}
		for k := range keys {
			p := fieldpath.Key(k)
			if prefix != "" {
				p = prefix + "." + p
			}
			diffPaths(p, xv[k], yv[k], out)
		}
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			*out = append(*out, prefix)
			return
		}
		for i := range xv {
			diffPaths(fmt.Sprintf("%s[%d]", prefix, i), xv[i], yv[i], out)
		}
	default:
		if !reflect.DeepEqual(x, y) {
			*out = append(*out, prefix)
		}
	}
}
