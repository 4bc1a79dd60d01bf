package diff

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/object"
)

// Options configures Compare.
type Options struct {
	// Ignore lists the noise rules: differences they match are left out.
	Ignore []Rule
	// KeepRandom reports fields the render marks as chart randomness
	// (render.Origin.Random); they are left out by default.
	KeepRandom bool
}

// DefaultOptions leaves out what changes on every chart version or every
// render without changing what runs: the chart and version labels, checksum
// annotations and chart randomness.
func DefaultOptions() Options {
	return Options{Ignore: DefaultRules()}
}

// NoIgnore shows everything.
func NoIgnore() Options { return Options{KeepRandom: true} }

// DefaultRules are the noise rules of DefaultOptions, in the --ignore syntax.
func DefaultRules() []Rule {
	var out []Rule
	for _, s := range []string{
		"label:helm.sh/chart",
		"label:chart",
		"label:app.kubernetes.io/version",
		"annotation:helm.sh/chart",
		"annotation:app.kubernetes.io/version",
		"annotation:checksum/*",
	} {
		r, err := ParseRule(s)
		if err != nil {
			panic(err) // the defaults are constants
		}
		out = append(out, r)
	}
	return out
}

// RuleKind says what a noise rule matches.
type RuleKind string

// Rule kinds.
const (
	RuleLabel      RuleKind = "label"
	RuleAnnotation RuleKind = "annotation"
	RuleField      RuleKind = "field"
)

// Rule is one noise rule: a label or annotation key (a glob, on any
// object or pod template metadata), or a field path prefix (globs per
// segment: spec.template.spec.containers[*].image), optionally for one
// kind only.
type Rule struct {
	Kind    RuleKind
	Pattern string
	// ObjectKind restricts a field rule to objects of this kind (Kind or
	// Kind.group).
	ObjectKind string
	re         *regexp.Regexp
}

// String renders the rule in the syntax ParseRule reads.
func (r Rule) String() string {
	if r.ObjectKind != "" {
		return fmt.Sprintf("%s:%s:%s", r.Kind, r.ObjectKind, r.Pattern)
	}
	return fmt.Sprintf("%s:%s", r.Kind, r.Pattern)
}

// ParseRule reads label:GLOB, annotation:GLOB, metadata:GLOB (both),
// field:PATH or field:KIND:PATH. A metadata rule yields two rules.
func ParseRule(s string) (Rule, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Rule{}, fmt.Errorf("ignore rule %q: want label:KEY, annotation:KEY or field:[KIND:]PATH", s)
	}
	switch RuleKind(kind) {
	case RuleLabel, RuleAnnotation:
		if _, err := path.Match(rest, ""); err != nil {
			return Rule{}, fmt.Errorf("ignore rule %q: %w", s, err)
		}
		return Rule{Kind: RuleKind(kind), Pattern: rest}, nil
	case RuleField:
		r := Rule{Kind: RuleField, Pattern: rest}
		if k, p, ok := strings.Cut(rest, ":"); ok {
			r.ObjectKind, r.Pattern = k, p
		}
		if r.Pattern == "" {
			return Rule{}, fmt.Errorf("ignore rule %q: empty field path", s)
		}
		r.re = fieldRE(r.Pattern)
		return r, nil
	}
	return Rule{}, fmt.Errorf("ignore rule %q: unknown kind %q (want label, annotation or field)", s, kind)
}

// ParseRules parses rules; "metadata:GLOB" stands for a label and an
// annotation rule.
func ParseRules(ss []string) ([]Rule, error) {
	var out []Rule
	for _, s := range ss {
		if glob, ok := strings.CutPrefix(s, "metadata:"); ok {
			for _, k := range []string{"label:", "annotation:"} {
				r, err := ParseRule(k + glob)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			continue
		}
		r, err := ParseRule(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// fieldRE matches a reported path that starts with the pattern: "*"
// stands for any characters within one segment or one list selector.
func fieldRE(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		if r == '*' {
			b.WriteString(`[^.\[\]]*`)
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	b.WriteString(`($|[.\[])`)
	return regexp.MustCompile(b.String())
}

// matchKey reports whether a label or annotation key is noise.
func (o Options) matchKey(kind RuleKind, key string) bool {
	for _, r := range o.Ignore {
		if r.Kind != kind {
			continue
		}
		if ok, _ := path.Match(r.Pattern, key); ok {
			return true
		}
	}
	return false
}

// matchField reports whether a reported field path is noise.
func (o Options) matchField(id object.ID, p string) bool {
	for _, r := range o.Ignore {
		if r.Kind != RuleField || r.re == nil {
			continue
		}
		if r.ObjectKind != "" && r.ObjectKind != id.Kind && r.ObjectKind != id.Kind+"."+id.Group {
			continue
		}
		if r.re.MatchString(p) {
			return true
		}
	}
	return false
}
