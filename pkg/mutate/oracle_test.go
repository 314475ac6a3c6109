package mutate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// injectedRecord is docs/design.md's `injected` annotation, written down again here ON PURPOSE,
// independently of mutate.Record (the one definition), so that a change of its shape fails the
// tests instead of silently changing the contract: a JSON object with one entry per carried
// component, keyed by the component's volume name, and "containers".
type injectedRecord struct {
	Components map[string]*recordComponent
	Envbox     bool
	Containers []string
}

type recordComponent struct {
	ConfigMap string         `json:"configMap"`
	Version   string         `json:"version"`
	Source    mutate.Source  `json:"source"`
	Rollout   *recordRollout `json:"rollout,omitempty"`
}

// recordRollout is a component's rollout entry (docs/design.md, "Sticky canary rollouts").
type recordRollout struct {
	Name      string `json:"name"`
	Arm       string `json:"arm"`
	Bucket    int    `json:"bucket"`
	Threshold int    `json:"threshold"`
}

func (r injectedRecord) component(volume string) *recordComponent { return r.Components[volume] }

// decodeRecord reads s strictly: every key is "containers" or a component of o, and a component
// entry has exactly the documented fields.
func decodeRecord(o mutate.Options, s string) (injectedRecord, error) {
	rec := injectedRecord{Components: map[string]*recordComponent{}}
	err := decodeObject([]byte(s), map[string]any{"containers": &rec.Containers, "envbox": &rec.Envbox}, func(name string, v json.RawMessage) error {
		if o.Component(name) == nil {
			return errors.New("neither a component nor containers")
		}
		rec.Components[name] = &recordComponent{}
		return strictJSON(v, rec.Components[name])
	})
	return rec, err
}

// encode writes the record as the webhook does: components in table order, then containers.
func (r injectedRecord) encode(t testing.TB, o mutate.Options) string {
	var b strings.Builder
	b.WriteByte('{')
	for _, s := range componentSpecs(o) {
		if c := r.component(s.volume); c != nil {
			fmt.Fprintf(&b, "%s:%s,", mustJSON(t, s.volume), mustJSON(t, c))
		}
	}
	if r.Envbox {
		b.WriteString(`"envbox":true,`)
	}
	fmt.Fprintf(&b, `"containers":%s}`, mustJSON(t, r.Containers))
	return b.String()
}

// plan is what the webhook decided, in docs/design.md's terms: the status, and for an injection which
// ConfigMap each component mounts into which containers, and which version each asked for.
type plan struct {
	Status   string
	Injected string // the injected annotation's JSON; empty when nothing is injected
	Record   injectedRecord
	// Requested is each recorded component's requested-version label, by volume: the record does
	// not carry it, so it is read back from the labels like the record from the annotations.
	Requested map[string]string
}

// planOf reads the decision back from the annotations of a mutated Pod.
func planOf(t testing.TB, o mutate.Options, p *corev1.Pod) plan {
	t.Helper()
	pl := plan{
		Status:   p.Annotations[o.AnnotationPrefix+mutate.KeyStatus],
		Injected: p.Annotations[o.AnnotationPrefix+mutate.KeyInjected],
	}
	if pl.Injected != "" {
		var err error
		if pl.Record, err = decodeRecord(o, pl.Injected); err != nil {
			t.Fatalf("injected annotation %q is not the documented JSON: %v", pl.Injected, err)
		}
	}
	pl.Requested = map[string]string{}
	for _, s := range componentSpecs(o) {
		if pl.Record.component(s.volume) != nil {
			pl.Requested[s.volume] = p.Labels[o.AnnotationPrefix+s.requestedKey]
		}
	}
	return pl
}

// planFromResult builds the plan of a fresh Pod (nothing present yet) from Mutate's Result: the
// benchmark's baseline needs the decision without reading it back from a patch.
func planFromResult(t testing.TB, o mutate.Options, r mutate.Result, containers []string) plan {
	pl := plan{Status: r.Status}
	if len(r.Injected) == 0 {
		return pl
	}
	pl.Record = injectedRecord{Components: map[string]*recordComponent{}, Containers: containers}
	pl.Requested = map[string]string{}
	for _, in := range r.Injected {
		rc := &recordComponent{ConfigMap: in.ConfigMap, Version: in.Version, Source: in.Source}
		if ro := in.Rollout; ro.Name != "" {
			rc.Rollout = &recordRollout{Name: ro.Name, Arm: string(ro.Arm), Bucket: ro.Bucket, Threshold: ro.Threshold}
		}
		pl.Record.Components[in.Component] = rc
		pl.Requested[in.Component] = in.Requested
	}
	pl.Injected = pl.Record.encode(t, o)
	return pl
}

// applyPlan is the oracle and the benchmark's baseline: the mutation written the way a
// controller-runtime Defaulter would write it, on the typed Pod (deep copy, append, set keys),
// with no knowledge of JSON patches. Applying Mutate's patch must give exactly this Pod.
func applyPlan(t testing.TB, o mutate.Options, in *corev1.Pod, pl plan) *corev1.Pod {
	p := in.DeepCopy()
	set := func(m *map[string]string, k, v string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	set(&p.Annotations, o.AnnotationPrefix+mutate.KeyStatus, pl.Status)
	// The webhook owns its labels: a component it does not record is labelled "none".
	for _, s := range componentSpecs(o) {
		set(&p.Labels, o.AnnotationPrefix+s.versionKey, "none")
		set(&p.Labels, o.AnnotationPrefix+s.requestedKey, "none")
	}
	if pl.Injected == "" {
		delete(p.Annotations, o.AnnotationPrefix+mutate.KeyInjected) // a forged record never survives
		return p
	}
	set(&p.Annotations, o.AnnotationPrefix+mutate.KeyInjected, pl.Injected)
	for _, s := range componentSpecs(o) {
		rc := pl.Record.component(s.volume)
		if rc == nil {
			continue
		}
		if v := findVolume(p.Spec.Volumes, s.volume); v == nil {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: s.volume, VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: rc.ConfigMap},
					Optional:             ptr.To(true),
				}}})
		} else if v.ConfigMap == nil {
			t.Errorf("annotation records %s from %q but the pod's volume is not a ConfigMap", s.volume, rc.ConfigMap)
		} else if v.ConfigMap.Name != rc.ConfigMap {
			// Our earlier output, re-decided: pointed at the recorded ConfigMap, optional as new.
			v.ConfigMap.Name, v.ConfigMap.Optional = rc.ConfigMap, ptr.To(true)
		}
		for _, name := range pl.Record.Containers {
			c := containerNamed(p, name)
			if c == nil {
				t.Errorf("annotation names container %q, which the pod does not have", name)
				continue
			}
			if !mountsAt(c.VolumeMounts, s.mountPath) {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: s.volume, MountPath: s.mountPath, ReadOnly: true})
			}
		}
		label := strings.TrimPrefix(rc.ConfigMap, s.base+"-")
		if rc.ConfigMap == s.base {
			label = mutate.DefaultVersionName
		}
		set(&p.Labels, o.AnnotationPrefix+s.versionKey, label)
		set(&p.Labels, o.AnnotationPrefix+s.requestedKey, pl.Requested[s.volume])
	}
	if pl.Record.Envbox {
		for _, name := range pl.Record.Containers {
			listForEnvbox(o, pl.Record, containerNamed(p, name))
		}
	}
	return p
}

// listForEnvbox is docs/design.md's "Envbox workspaces", written down again ON PURPOSE without
// pkg/mutate's parser: an envbox container's CODER_MOUNTS (the last one; from a plain value)
// gets "<path>:<path>:ro" for each recorded component the container mounts whose destination it
// does not list, unless envbox would refuse the value.
func listForEnvbox(o mutate.Options, rec injectedRecord, c *corev1.Container) {
	if c == nil {
		return
	}
	inner, j := false, -1
	for k, e := range c.Env {
		inner = inner || e.Name == "CODER_INNER_IMAGE"
		if e.Name == "CODER_MOUNTS" {
			j = k
		}
	}
	if o.Envbox == mutate.EnvboxOff || o.Envbox == mutate.EnvboxAuto && !inner || j >= 0 && c.Env[j].ValueFrom != nil {
		return
	}
	value := ""
	if j >= 0 {
		value = c.Env[j].Value
	}
	dsts := map[string]bool{}
	if value != "" {
		for _, item := range strings.Split(value, ",") {
			tok := strings.Split(item, ":")
			if len(tok) < 2 || len(tok) > 3 || tok[0] == "" || tok[1] == "" {
				return
			}
			dsts[path.Clean(tok[1])] = true
		}
	}
	for _, s := range componentSpecs(o) {
		if rec.component(s.volume) == nil || !mountsVolumeAt(c.VolumeMounts, s.volume, s.mountPath) || dsts[s.mountPath] {
			continue
		}
		if value != "" {
			value += ","
		}
		value += s.mountPath + ":" + s.mountPath + ":ro"
	}
	if j >= 0 {
		c.Env[j].Value = value
	} else if value != "" {
		c.Env = append(c.Env, corev1.EnvVar{Name: "CODER_MOUNTS", Value: value})
	}
}

// checkRecordMounted asserts the injected annotation tells the truth: every recorded component is
// mounted, by its own volume at its mount path, in some listed container, and every listed
// container carries at least one recorded component.
func checkRecordMounted(t testing.TB, o mutate.Options, out *corev1.Pod, rec injectedRecord) {
	t.Helper()
	carries := func(c *corev1.Container, s componentSpec) bool {
		for _, m := range c.VolumeMounts {
			if m.Name == s.volume && path.Clean(m.MountPath) == s.mountPath {
				return true
			}
		}
		return false
	}
	mounted := map[string]bool{}
	for _, name := range rec.Containers {
		c := containerNamed(out, name)
		if c == nil {
			continue // applyPlan reports it
		}
		any := false
		for _, s := range componentSpecs(o) {
			if rec.component(s.volume) != nil && carries(c, s) {
				any, mounted[s.volume] = true, true
			}
		}
		if !any {
			t.Errorf("annotation lists container %q, which carries no tilt component", name)
		}
	}
	for _, s := range componentSpecs(o) {
		if rec.component(s.volume) != nil && !mounted[s.volume] {
			t.Errorf("annotation records %s, but no listed container mounts it at %s", s.volume, s.mountPath)
		}
	}
}

func containerNamed(p *corev1.Pod, name string) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == name {
			return &p.Spec.Containers[i]
		}
	}
	return nil
}

func mountsVolumeAt(ms []corev1.VolumeMount, volume, mountPath string) bool {
	for _, m := range ms {
		if m.Name == volume && path.Clean(m.MountPath) == mountPath {
			return true
		}
	}
	return false
}

func mountsAt(ms []corev1.VolumeMount, mountPath string) bool {
	for _, m := range ms {
		if path.Clean(m.MountPath) == mountPath {
			return true
		}
	}
	return false
}
