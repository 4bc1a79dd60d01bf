// Command kubeschema writes kubeconform-layout JSON schemas (convert.go)
// for scripts/bench-pipeline.sh:
//
//	go run ./tools/kubeschema -openapi v2.json [-crds render.yaml]... -out DIR
//
// -openapi is a kube-apiserver's /openapi/v2 document; -crds files are YAML
// streams whose CustomResourceDefinitions are added (other objects are
// skipped). Exit 2 on any error.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kubeschema:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kubeschema", flag.ContinueOnError)
	openapi := fs.String("openapi", "", "kube-apiserver /openapi/v2 document (JSON)")
	out := fs.String("out", "", "output directory")
	var crds files
	fs.Var(&crds, "crds", "YAML stream with CustomResourceDefinitions (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *openapi == "" || *out == "" {
		return errors.New("-openapi and -out are required")
	}
	doc, err := os.ReadFile(*openapi)
	if err != nil {
		return err
	}
	schemas, err := FromOpenAPIV2(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", *openapi, err)
	}
	builtin := len(schemas)
	for _, file := range crds {
		objs, err := readCRDs(file)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, crd := range objs {
			s, err := FromCRD(crd)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			for name, b := range s {
				if _, ok := schemas[name]; !ok {
					schemas[name] = b
				}
			}
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for name, b := range schemas {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "kubeschema: %d schemas (%d built-in, %d from CRDs) in %s\n", len(schemas), builtin, len(schemas)-builtin, *out)
	return nil
}

func readCRDs(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if obj != nil && u.GetKind() == "CustomResourceDefinition" && u.GetAPIVersion() == "apiextensions.k8s.io/v1" {
			out = append(out, u)
		}
	}
}
