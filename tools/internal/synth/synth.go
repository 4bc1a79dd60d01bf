// Package synth generates synthetic Flux repositories — nested
// Kustomizations with bases, patches, generators and substitution, and
// HelmReleases of realistic charts with sub-charts — for the render
// benchmarks and the determinism tests.
package synth

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
)

// Size is the shape of a synthetic repository.
type Size struct {
	Name           string
	Kustomizations int
	HelmReleases   int
	Charts         int
	// CRDs is how many CustomResourceDefinitions the platform chart ships
	// (see crds.go); none: no platform chart.
	CRDs int
}

// Sizes are the benchmark sizes.
var Sizes = []Size{
	{Name: "small", Kustomizations: 50, HelmReleases: 20, Charts: 10, CRDs: 2},
	{Name: "medium", Kustomizations: 200, HelmReleases: 80, Charts: 10, CRDs: 6},
	{Name: "large", Kustomizations: 500, HelmReleases: 200, Charts: 10, CRDs: 12},
}

// SizeNamed returns the size called name.
func SizeNamed(name string) (Size, error) {
	for _, s := range Sizes {
		if s.Name == name {
			return s, nil
		}
	}
	return Size{}, fmt.Errorf("unknown size %q (small, medium, large)", name)
}

// Entry is the cluster entry of a generated repository; ChartsDir holds its
// charts, for --charts.
const (
	Entry     = "clusters/bench"
	ChartsDir = "charts"
	groups    = 10
)

// Generate writes a repository of the given size under dir. A non-zero seed
// shuffles the order of documents and list entries in the files, which must
// not change the render.
func Generate(dir string, size Size, seed uint64) error {
	if size.Kustomizations <= groups || size.Charts < 1 {
		return fmt.Errorf("size %+v: need more than %d Kustomizations and at least one chart", size, groups)
	}
	g := &gen{files: map[string]string{}}
	if seed != 0 {
		g.rnd = rand.New(rand.NewPCG(seed, seed^0x5eed))
	}
	for i := range size.Charts {
		for p, c := range chartFiles(i) {
			g.files[filepath.ToSlash(filepath.Join(ChartsDir, fmt.Sprintf("app%02d", i), p))] = c
		}
	}
	g.entry()
	if size.CRDs > 0 {
		for p, c := range platformChart(size.CRDs) {
			g.files[filepath.ToSlash(filepath.Join(ChartsDir, "platform", p))] = c
		}
		g.files[Entry+"/platform.yaml"] = platformRelease
	}
	g.base()
	apps := size.Kustomizations - groups
	hrAt := map[int][]int{}
	for h := range size.HelmReleases {
		a := h * apps / size.HelmReleases // spread the releases evenly over the apps
		hrAt[a] = append(hrAt[a], h)
	}
	groupDocs := make([][]string, groups)
	for a := range apps {
		grp := a % groups
		groupDocs[grp] = append(groupDocs[grp], appKustomization(a, grp))
		g.app(a, hrAt[a], size)
	}
	for grp, docs := range groupDocs {
		g.files[fmt.Sprintf("groups/%02d/apps.yaml", grp)] = g.stream(docs)
	}
	return writeFiles(dir, g.files)
}

type gen struct {
	files map[string]string
	rnd   *rand.Rand
}

// stream joins documents, shuffled when a seed was given.
func (g *gen) stream(docs []string) string {
	g.shuffle(docs)
	return strings.Join(docs, "---\n")
}

func (g *gen) shuffle(s []string) {
	if g.rnd != nil {
		g.rnd.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
}

func (g *gen) list(items ...string) string {
	g.shuffle(items)
	return "[" + strings.Join(items, ", ") + "]"
}

func (g *gen) entry() {
	g.files[Entry+"/cluster-vars.yaml"] = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-vars
  namespace: flux-system
data:
  ENVIRONMENT: bench
  CLUSTER_NAME: aks-bench
  BASE_DOMAIN: bench.example.com
`
	g.files[Entry+"/crds.yaml"] = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
	docs := make([]string, groups)
	for grp := range groups {
		docs[grp] = fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: group-%02d
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 5m
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./groups/%02d
`, grp, grp)
	}
	g.files[Entry+"/groups.yaml"] = g.stream(docs)
}

func (g *gen) base() {
	g.files["bases/web/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: " + g.list("deployment.yaml", "service.yaml") + "\n"
	g.files["bases/web/deployment.yaml"] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          env:
            - name: ENVIRONMENT
              value: ${ENVIRONMENT}
            - name: CLUSTER
              value: ${CLUSTER_NAME}
            - name: TIER
              value: ${TIER:=standard}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 64Mi}
`
	g.files["bases/web/service.yaml"] = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app.kubernetes.io/name: web
  ports:
    - port: 80
      targetPort: 8080
`
}

func appKustomization(a, grp int) string {
	dependsOn := ""
	if a >= groups {
		dependsOn = fmt.Sprintf("  dependsOn:\n    - name: app-%03d\n", a-groups)
	}
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-%03d
  namespace: flux-system
spec:
%s  interval: 10m
  timeout: 5m
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps/%03d
  targetNamespace: app-%03d
  commonMetadata:
    labels:
      app.kubernetes.io/part-of: group-%02d
  postBuild:
    substitute:
      APP: app-%03d
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
`, a, dependsOn, a, a, grp, a)
}

func (g *gen) app(a int, hrs []int, size Size) {
	dir := fmt.Sprintf("apps/%03d", a)
	resources := []string{"../../bases/web", "namespace.yaml"}
	if len(hrs) > 0 {
		resources = append(resources, "releases.yaml")
	}
	if size.CRDs > 0 {
		resources = append(resources, "widget.yaml")
		g.files[dir+"/widget.yaml"] = widget(a, size.CRDs)
	}
	g.files[dir+"/kustomization.yaml"] = fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: %s
patches:
  - target:
      kind: Deployment
      name: web
    patch: |
      - op: replace
        path: /spec/replicas
        value: %d
configMapGenerator:
  - name: settings
    literals:
      - app=${APP}
      - index=%d
images:
  - name: registry.example.com/web
    newTag: "1.%d.0"
`, g.list(resources...), 1+a%3, a, a%7)
	g.files[dir+"/namespace.yaml"] = fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: app-%03d
  labels:
    pod-security.kubernetes.io/enforce: baseline
`, a)
	if len(hrs) == 0 {
		return
	}
	docs := []string{`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
spec:
  interval: 1h
  url: https://charts.bench.invalid
`}
	for _, h := range hrs {
		docs = append(docs, fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: release-%03d
spec:
  interval: 1h
  chart:
    spec:
      chart: app%02d
      version: 1.x
      sourceRef:
        kind: HelmRepository
        name: charts
  install:
    remediation:
      retries: 3
  values:
    replicaCount: %d
    fullnameOverride: "{{ .Release.Name }}-svc"
    env:
      RELEASE: "{{ .Release.Name }}"
      ENVIRONMENT: ${ENVIRONMENT}
    autoscaling:
      enabled: %t
    ingress:
      enabled: true
      hosts:
        - "{{ .Release.Name }}.${BASE_DOMAIN}"
    extraObjects:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: "{{ .Release.Name }}-extra"
        data:
          owner: team-%d
`, h, h%size.Charts, 1+h%4, h%2 == 0, h%5))
	}
	g.files[dir+"/releases.yaml"] = g.stream(docs)
}
