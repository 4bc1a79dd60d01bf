package podenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/ssa/utils"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// object reads one object of a YAML document with Flux's reader, as the
// render's output is read.
func object(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	objs, err := utils.ReadObjects(strings.NewReader(s))
	if err != nil || len(objs) != 1 {
		t.Fatalf("%d objects, %v", len(objs), err)
	}
	return objs[0]
}

// TestLayOut lays out a Deployment's container from rendered objects only
// (no API server: everything it refers to is rendered): volumes as files at
// their mount paths, the environment as the kubelet resolves it.
func TestLayOut(t *testing.T) {
	deploy := object(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: ctl, namespace: ns}
spec:
  selector: {matchLabels: {app: ctl}}
  template:
    metadata: {labels: {app: ctl}}
    spec:
      serviceAccountName: ctl-sa
      containers:
        - name: sidecar
          image: x
        - name: manager
          image: x
          command: [/manager, serve]
          args: [--config=/conf/config.yaml]
          resources: {limits: {memory: 64Mi, cpu: 1500m}}
          env:
            - {name: PLAIN, value: v}
            - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
            - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
            - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
            - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
            - {name: CPUS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
            - {name: LEVEL, valueFrom: {configMapKeyRef: {name: conf, key: level}}}
          envFrom:
            - {secretRef: {name: creds}, prefix: CRED_}
          volumeMounts:
            - {name: conf, mountPath: /conf}
            - {name: certs, mountPath: /certs}
            - {name: one, mountPath: /etc/app/level.txt, subPath: level}
            - {name: scratch, mountPath: /var/lib/app}
      volumes:
        - name: conf
          configMap: {name: conf, items: [{key: config.yaml, path: config.yaml}]}
        - name: certs
          secret: {secretName: creds}
        - name: one
          configMap: {name: conf}
        - name: scratch
          emptyDir: {}
`)
	objs := []*unstructured.Unstructured{
		object(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: conf, namespace: ns}, data: {config.yaml: "a: 1\n", level: debug}}`),
		// dXNlcg== is "user"; stringData is what a Secret's author wrote.
		object(t, `{apiVersion: v1, kind: Secret, metadata: {name: creds, namespace: ns}, data: {user: dXNlcg==}, stringData: {token: t0k}}`),
		// Another namespace's ConfigMap of the same name is not it.
		object(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: conf, namespace: other}, data: {level: wrong}}`),
	}
	p, err := newPod(Options{Workload: deploy, Container: "manager", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	vars, err := p.environment()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CRED_token=t0k", "CRED_user=user", "PLAIN=v", "NS=ns", "POD=ctl-harness", "IP=127.0.0.1", "SA=ctl-sa", "MEM=64", "CPUS=2", "LEVEL=debug"}
	if diff := cmp.Diff(want, vars); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}

	root := t.TempDir()
	if err := p.layOut(root); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, root)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := map[string]string{
		"/conf/config.yaml":  "a: 1\n", // items: only the key named
		"/certs/user":        "user",
		"/certs/token":       "t0k",
		"/etc/app/level.txt": "debug",
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(filepath.Join(root, "var", "lib", "app")); err != nil || !fi.IsDir() {
		t.Errorf("emptyDir /var/lib/app: %v", err)
	}
}

// TestMissing names what a container refers to and nothing provides.
func TestMissing(t *testing.T) {
	deploy := object(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: ctl, namespace: ns}
spec:
  template:
    spec:
      containers:
        - name: manager
          env:
            - {name: X, valueFrom: {fieldRef: {fieldPath: "metadata.labels['a']"}}}
`)
	p, err := newPod(Options{Workload: deploy})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.environment()
	if err == nil || !strings.Contains(err.Error(), "env X: field metadata.labels['a'] is not answered by the harness") {
		t.Errorf("err = %v", err)
	}
	if _, err := newPod(Options{Workload: object(t, `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d}}`)}); err == nil {
		t.Error("a DaemonSet was accepted")
	}
}
