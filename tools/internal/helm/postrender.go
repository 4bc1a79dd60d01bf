package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/postrenderer"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/aks-gitops/platform/tools/internal/flux"
	"github.com/aks-gitops/platform/tools/internal/kustomize"
)

// PostRenderers returns the post-rendering helm-controller applies to a
// HelmRelease: its kustomize post-renderers in order, then commonMetadata,
// then the origin labels (which win over commonMetadata on a key clash).
func PostRenderers(ctx context.Context, hr *helmv2.HelmRelease) postrenderer.PostRenderer {
	var chain []postrenderer.PostRenderer
	for _, pr := range hr.Spec.PostRenderers {
		if pr.Kustomize != nil {
			chain = append(chain, kustomizePostRenderer{ctx: ctx, spec: pr.Kustomize})
		}
	}
	labels := map[string]string{}
	var annotations map[string]string
	if cm := hr.Spec.CommonMetadata; cm != nil {
		for k, v := range cm.Labels {
			labels[k] = v
		}
		annotations = cm.Annotations
	}
	for k, v := range OriginLabels(hr) {
		labels[k] = v
	}
	chain = append(chain, metadataPostRenderer{labels: labels, annotations: annotations})
	return chainPostRenderer(chain)
}

// OriginLabels are the labels helm-controller sets on everything it applies.
func OriginLabels(hr *helmv2.HelmRelease) map[string]string {
	return flux.OwnerLabels(flux.HelmReleaseKind, hr.Namespace, hr.Name)
}

type chainPostRenderer []postrenderer.PostRenderer

func (c chainPostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	out := in
	for _, pr := range c {
		var err error
		if out, err = pr.Run(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// kustomizePostRenderer applies a HelmRelease's kustomize patches and images
// with krusty over an in-memory filesystem.
type kustomizePostRenderer struct {
	// ctx is the render's: Helm's PostRenderer interface carries none.
	ctx  context.Context
	spec *helmv2.Kustomize
}

func (k kustomizePostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	const input = "helm-output.yaml"
	kus := kustypes.Kustomization{
		TypeMeta:  kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind},
		Resources: []string{input},
	}
	for _, img := range k.spec.Images {
		kus.Images = append(kus.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.spec.Patches {
		patch := kustypes.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			patch.Target = &kustypes.Selector{LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
			patch.Target.Name, patch.Target.Namespace = t.Name, t.Namespace
			patch.Target.Group, patch.Target.Version, patch.Target.Kind = t.Group, t.Version, t.Kind
		}
		kus.Patches = append(kus.Patches, patch)
	}
	data, err := json.Marshal(kus)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", data); err != nil {
		return nil, err
	}
	resMap, err := kustomize.Run(k.ctx, fs, ".")
	if err != nil {
		return nil, fmt.Errorf("post-renderer kustomize: %w", err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

// metadataPostRenderer sets labels and annotations on every object's metadata.
type metadataPostRenderer struct {
	labels, annotations map[string]string
}

func (m metadataPostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	objs, err := DecodeDocs(in.String())
	if err != nil {
		return nil, fmt.Errorf("post-renderer metadata: %w", err)
	}
	out := &bytes.Buffer{}
	for _, o := range objs {
		setLabels(o, m.labels)
		if len(m.annotations) > 0 {
			a := o.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			for k, v := range m.annotations {
				a[k] = v
			}
			o.SetAnnotations(a)
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	return out, nil
}
