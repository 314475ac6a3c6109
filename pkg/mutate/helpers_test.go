package mutate_test

import (
	"encoding/json"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// applyOps applies ops to doc exactly as the API server does (evanphx/json-patch, strict: no
// path creation on add), so a patch that only works against our own mental model fails here.
func applyOps(doc []byte, ops []jsonpatch.Operation) ([]byte, error) {
	if len(ops) == 0 {
		return doc, nil
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	p, err := jsonpatch5.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}

func decodePod(t testing.TB, b []byte) *corev1.Pod {
	t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("decode pod: %v\n%s", err, b)
	}
	return &p
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// sameJSON compares two documents as JSON values, ignoring key order and whitespace.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return reflect.DeepEqual(va, vb)
}

// lib and tmpl are the rows of the product's two components in o: setting their fields
// configures o.
func lib(o *mutate.Options) *mutate.Component  { return o.Component(mutate.LibVolume) }
func tmpl(o *mutate.Options) *mutate.Component { return o.Component(mutate.TemplatesVolume) }

type componentSpec struct {
	volume, base, mountPath, versionKey string
	// requestedKey is the requested-version label's key after the prefix: docs/design.md's
	// "requested-" + the version key, written down again here on purpose.
	requestedKey string
}

// componentSpecs are the components of o as the invariants and the oracle see them: every row of
// the table, the test-only rows of a case included.
func componentSpecs(o mutate.Options) []componentSpec {
	var specs []componentSpec
	for _, c := range o.Components {
		specs = append(specs, componentSpec{c.Name, c.Base, c.MountPath, c.VersionKey, "requested-" + c.VersionKey})
	}
	return specs
}

// checkInvariants asserts what must hold for any Pod the webhook returns, whatever the input:
// the patch only appends tilt volumes and mounts and sets the webhook's own annotation and label
// keys; nothing the Pod had is removed or changed; names and mount paths stay unique.
func checkInvariants(t testing.TB, o mutate.Options, in, out *corev1.Pod) {
	t.Helper()
	specs := componentSpecs(o)
	specFor := func(volume string) *componentSpec {
		for i := range specs {
			if specs[i].volume == volume {
				return &specs[i]
			}
		}
		return nil
	}

	if len(out.Spec.Volumes) < len(in.Spec.Volumes) {
		t.Fatalf("volumes shrank: %d -> %d", len(in.Spec.Volumes), len(out.Spec.Volumes))
	}
	if uniqueVolumeNames(in.Spec.Volumes) && !uniqueVolumeNames(out.Spec.Volumes) {
		t.Errorf("duplicate volume names after patch: %v", volumeNames(out.Spec.Volumes))
	}
	for _, v := range out.Spec.Volumes[len(in.Spec.Volumes):] {
		switch s := specFor(v.Name); {
		case s == nil:
			t.Errorf("patch added foreign volume %q", v.Name)
		case v.ConfigMap == nil || !ptr.Deref(v.ConfigMap.Optional, false) || len(v.ConfigMap.Items) > 0:
			t.Errorf("volume %q must be a whole, optional ConfigMap volume: %+v", v.Name, v.VolumeSource)
		case v.ConfigMap.Name != s.base && !strings.HasPrefix(v.ConfigMap.Name, s.base+"-"):
			t.Errorf("volume %q mounts ConfigMap %q, not a %s version", v.Name, v.ConfigMap.Name, s.base)
		}
	}

	checkRewrites(t, o, in, out)

	if len(out.Spec.Containers) != len(in.Spec.Containers) {
		t.Fatalf("containers changed: %d -> %d", len(in.Spec.Containers), len(out.Spec.Containers))
	}
	for i := range out.Spec.Containers {
		cin, cout := in.Spec.Containers[i], out.Spec.Containers[i]
		if len(cout.VolumeMounts) < len(cin.VolumeMounts) {
			t.Fatalf("container %q mounts shrank", cin.Name)
		}
		if uniqueMountPaths(cin.VolumeMounts) && !uniqueMountPaths(cout.VolumeMounts) {
			t.Errorf("container %q: duplicate mount paths after patch: %v", cin.Name, mountPaths(cout.VolumeMounts))
		}
		for _, m := range cout.VolumeMounts[len(cin.VolumeMounts):] {
			s := specFor(m.Name)
			switch {
			case s == nil:
				t.Errorf("container %q: patch mounted foreign volume %q", cin.Name, m.Name)
			case m.MountPath != s.mountPath:
				t.Errorf("container %q: %s mounted at %q, want %q", cin.Name, m.Name, m.MountPath, s.mountPath)
			case !m.ReadOnly || m.SubPath != "" || m.SubPathExpr != "" || m.MountPropagation != nil:
				// subPath would stop kubelet from refreshing files on a GitOps update.
				t.Errorf("container %q: mount %+v must be readOnly without subPath", cin.Name, m)
			}
			if s != nil && findVolume(out.Spec.Volumes, m.Name) == nil {
				t.Errorf("container %q mounts %q but the pod has no such volume", cin.Name, m.Name)
			}
		}
	}

	for _, v := range out.Spec.Volumes[len(in.Spec.Volumes):] {
		if s := specFor(v.Name); s != nil && !anyMounts(out.Spec.Containers, v.Name, s.mountPath) {
			t.Errorf("patch added volume %q that no container mounts at %s", v.Name, s.mountPath)
		}
	}

	// Everything else is untouched: strip what the patch may add and compare the rest.
	ownAnn := []string{o.AnnotationPrefix + mutate.KeyStatus, o.AnnotationPrefix + mutate.KeyInjected}
	var ownLabels []string
	for _, s := range specs {
		ownLabels = append(ownLabels, o.AnnotationPrefix+s.versionKey, o.AnnotationPrefix+s.requestedKey)
	}
	strip := func(p *corev1.Pod, like *corev1.Pod) *corev1.Pod {
		p = p.DeepCopy()
		p.Spec.Volumes = p.Spec.Volumes[:len(like.Spec.Volumes)]
		for i, v := range like.Spec.Volumes {
			if specFor(v.Name) != nil {
				p.Spec.Volumes[i] = *v.DeepCopy() // a rewrite, checked by checkRewrites
			}
		}
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].VolumeMounts = p.Spec.Containers[i].VolumeMounts[:len(like.Spec.Containers[i].VolumeMounts)]
		}
		for _, k := range ownAnn {
			delete(p.Annotations, k)
		}
		for _, k := range ownLabels {
			delete(p.Labels, k)
		}
		return p
	}
	if a, b := strip(in, in), strip(out, in); !equality.Semantic.DeepEqual(a, b) {
		t.Errorf("patch changed more than the tilt volumes, mounts, annotations and labels:\nin:  %s\nout: %s",
			mustJSON(t, a), mustJSON(t, b))
	}
	// The status is always written, unless even the shortest status would push the annotations
	// over the API server's limit.
	statusKey := o.AnnotationPrefix + mutate.KeyStatus
	withStatus := maps.Clone(out.Annotations)
	if withStatus == nil {
		withStatus = map[string]string{}
	}
	withStatus[statusKey] = string(mutate.OutcomeInjected)
	if out.Annotations[statusKey] == "" && apivalidation.ValidateAnnotationsSize(withStatus) == nil {
		t.Errorf("status annotation missing")
	}
	if apivalidation.ValidateAnnotationsSize(in.Annotations) == nil && apivalidation.ValidateAnnotationsSize(out.Annotations) != nil {
		t.Errorf("the patch pushed the annotations over the API server's limit")
	}
}

// checkRewrites asserts that a volume the Pod brought changes only as a rewrite of the webhook's
// own earlier output: a ConfigMap volume of the component's name, without items, naming one of
// the component's ConfigMaps ("<base>", "<base>-<x>") or the one the Pod's injected record names
// for it, pointed at another of the component's ConfigMaps and made optional, nothing else
// changed. Which volumes are ours is written down again here ON PURPOSE (docs/design.md, "Which
// Pods, which containers"), independently of pkg/mutate's ours.go.
func checkRewrites(t testing.TB, o mutate.Options, in, out *corev1.Pod) {
	t.Helper()
	recorded := map[string]string{}
	if raw, ok := in.Annotations[o.AnnotationPrefix+mutate.KeyInjected]; ok {
		if rec, err := decodeRecord(o, raw); err == nil {
			for name, c := range rec.Components {
				recorded[name] = c.ConfigMap
			}
		}
	}
	for _, s := range componentSpecs(o) {
		ofBase := func(name string) bool { return name == s.base || strings.HasPrefix(name, s.base+"-") }
		for i, vin := range in.Spec.Volumes {
			vout := out.Spec.Volumes[i]
			if vin.Name != s.volume || equality.Semantic.DeepEqual(vin, vout) {
				continue
			}
			cin, cout := vin.ConfigMap, vout.ConfigMap
			switch {
			case cin == nil || len(cin.Items) > 0 || !ofBase(cin.Name) && recorded[s.volume] != cin.Name:
				t.Errorf("patch changed volume %q, which is not ours: %+v -> %+v", vin.Name, vin.VolumeSource, vout.VolumeSource)
			case vout.Name != vin.Name || cout == nil || !ofBase(cout.Name) || !ptr.Deref(cout.Optional, false):
				t.Errorf("volume %q rewritten to %+v, not an optional ConfigMap of %s", vin.Name, vout.VolumeSource, s.base)
			default:
				was := vout.DeepCopy()
				was.ConfigMap.Name, was.ConfigMap.Optional = cin.Name, cin.Optional
				if !equality.Semantic.DeepEqual(vin, *was) {
					t.Errorf("volume %q: the rewrite changed more than its ConfigMap and optional: %+v -> %+v", vin.Name, vin, vout)
				}
			}
		}
	}
}

func findVolume(vs []corev1.Volume, name string) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

func anyMounts(cs []corev1.Container, volume, mountPath string) bool {
	for _, c := range cs {
		for _, m := range c.VolumeMounts {
			if m.Name == volume && path.Clean(m.MountPath) == mountPath {
				return true
			}
		}
	}
	return false
}

func volumeNames(vs []corev1.Volume) []string {
	var n []string
	for _, v := range vs {
		n = append(n, v.Name)
	}
	return n
}

func mountPaths(ms []corev1.VolumeMount) []string {
	var n []string
	for _, m := range ms {
		n = append(n, path.Clean(m.MountPath))
	}
	return n
}

func uniqueVolumeNames(vs []corev1.Volume) bool { return unique(volumeNames(vs)) }

func uniqueMountPaths(ms []corev1.VolumeMount) bool { return unique(mountPaths(ms)) }

func unique(s []string) bool {
	s = slices.Clone(s)
	slices.Sort(s)
	return len(slices.Compact(s)) == len(s)
}
