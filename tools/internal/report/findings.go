package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/finding"
)

// findings writes findings sorted by cluster, object and message: as text
// grouped by object (then counts), GitHub Actions workflow commands
// (annotations on the files, then the text), JUnit XML (one test case per
// object, failed by its errors) or SARIF 2.1.0 (one result per finding).
// verb names the run in JUnit and SARIF ("validate", "policy", "check").
func findings(w io.Writer, format, verb string, fs []finding.Finding, p painter) error {
	finding.Sort(fs)
	switch format {
	case "github":
		for _, f := range fs {
			file := ""
			if f.File != "" {
				file = "file=" + escapeProperty(f.File) + ","
			}
			fmt.Fprintf(w, "::%s %stitle=%s::%s\n", f.Level(), file, escapeProperty(title(f)), escapeData(f.Message))
		}
		return text(w, fs, p)
	case "junit":
		return junit(w, verb, fs)
	case "sarif":
		return sarif(w, verb, fs)
	}
	return text(w, fs, p)
}

func title(f finding.Finding) string {
	s := f.Check
	if f.Rule != "" {
		s += " " + f.Rule
	}
	return s + " " + f.Object.String()
}

// text groups findings by cluster and object: a heading naming the object
// and where it came from, then one indented line per finding.
func text(w io.Writer, findings []finding.Finding, p painter) error {
	var last string
	for _, f := range findings {
		if head := f.Cluster + ": " + f.Object.String() + " (" + f.Where + ")"; head != last {
			fmt.Fprintln(w, p.paint(ansiBold, head))
			last = head
		}
		color := ansiRed
		if f.Warning {
			color = ansiYellow
		}
		fmt.Fprintf(w, "  %s %s: %s\n", p.paint(color, f.Level()), checkName(f), f.Message)
	}
	errs, warns := finding.Count(findings)
	_, err := fmt.Fprintf(w, "%d findings (%d errors, %d warnings)\n", len(findings), errs, warns)
	return err
}

// checkName names the check, its rule and a policy's enforcement action.
func checkName(f finding.Finding) string {
	s := f.Check
	if f.Rule != "" {
		s += " " + f.Rule
	}
	if f.Action != "" {
		s += " [" + f.Action + "]"
	}
	return s
}

// JUnit: one suite per cluster, one case per object with findings (its
// errors a failure, warnings in system-out), so CI test reports list every
// failing object by name.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func junit(w io.Writer, tool string, findings []finding.Finding) error {
	doc := junitSuites{Name: "tools " + tool}
	for i := 0; i < len(findings); {
		j := i
		for j < len(findings) && findings[j].Cluster == findings[i].Cluster && findings[j].Object == findings[i].Object {
			j++
		}
		f := findings[i]
		c := junitCase{Name: f.Object.String(), Classname: f.Cluster, File: f.File}
		var errs, warns []string
		for _, g := range findings[i:j] {
			line := checkName(g) + ": " + g.Message
			if g.Warning {
				warns = append(warns, "warning "+line)
			} else {
				errs = append(errs, line)
			}
		}
		if len(errs) > 0 {
			c.Failure = &junitFailure{Message: errs[0], Type: "error", Text: strings.Join(errs, "\n")}
		}
		c.SystemOut = strings.Join(warns, "\n")
		if n := len(doc.Suites); n == 0 || doc.Suites[n-1].Name != f.Cluster {
			doc.Suites = append(doc.Suites, junitSuite{Name: f.Cluster})
		}
		s := &doc.Suites[len(doc.Suites)-1]
		s.Tests++
		doc.Tests++
		if c.Failure != nil {
			s.Failures++
			doc.Failures++
		}
		s.Cases = append(s.Cases, c)
		i = j
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// sarif writes a SARIF 2.1.0 log: one rule per check (and rule), one
// result per finding located at its repository file, so code scanning
// shows findings on the pull request's files.
func sarif(w io.Writer, tool string, findings []finding.Finding) error {
	type message struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string  `json:"id"`
		ShortDescription message `json:"shortDescription"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID     string            `json:"ruleId"`
		Level      string            `json:"level"`
		Message    message           `json:"message"`
		Locations  []location        `json:"locations,omitempty"`
		Properties map[string]string `json:"properties"`
	}
	var rules []rule
	seen := map[string]bool{}
	results := []result{}
	for _, f := range findings {
		id := f.Check
		if f.Rule != "" {
			id += "/" + f.Rule
		}
		if !seen[id] {
			seen[id] = true
			rules = append(rules, rule{ID: id, ShortDescription: message{Text: id}})
		}
		r := result{
			RuleID:     id,
			Level:      f.Level(),
			Message:    message{Text: f.Object.String() + ": " + f.Message},
			Properties: map[string]string{"cluster": f.Cluster, "object": f.Object.String(), "where": f.Where},
		}
		if f.Action != "" {
			r.Properties["enforcementAction"] = f.Action
		}
		if f.File != "" {
			var l location
			l.PhysicalLocation.ArtifactLocation.URI = f.File
			r.Locations = []location{l}
		}
		results = append(results, r)
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name":           "aks-gitops tools " + tool,
				"informationUri": "https://github.com/aks-gitops/platform",
				"rules":          rules,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// escapeData and escapeProperty encode values for GitHub workflow commands.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
