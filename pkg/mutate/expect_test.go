package mutate_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// expectFile is a case's hand-written decision, derived from the documented precedence (README,
// docs/design.md) and never generated: -update does not touch it, and refuses to write goldens
// when a case disagrees with it. The goldens pin bytes; this pins what was decided.
const expectFile = "expect.yaml"

// expectation is expect.yaml: status, reason, containers, and one entry per injected component
// keyed by its name ("tilt-lib: {configMap: tilt-lib-v2, source: pod}", optionally with the Pod's
// two labels: "label: v2, requested: v3"). A component absent from it must not be injected.
type expectation struct {
	Status     string
	Reason     mutate.Reason
	Containers []string
	Components map[string]*expectedComponent
}

type expectedComponent struct {
	ConfigMap string        `json:"configMap"`
	Source    mutate.Source `json:"source"`
	// Label and Requested, when set, are the version and requested-version labels.
	Label     string `json:"label,omitempty"`
	Requested string `json:"requested,omitempty"`
	// Arm, when set, is the arm the record's rollout entry must give; unset, the component must
	// record no rollout. Bucket, when set, is its bucket: written from the independent oracle
	// (pkg/rollout/testdata/buckets.py), never from our output.
	Arm    string `json:"arm,omitempty"`
	Bucket *int   `json:"bucket,omitempty"`
}

// UnmarshalJSON decodes strictly: a misspelt field fails, and checkExpect fails a component key
// that names no component of the case.
func (e *expectation) UnmarshalJSON(b []byte) error {
	*e = expectation{Components: map[string]*expectedComponent{}}
	return decodeObject(b, map[string]any{"status": &e.Status, "reason": &e.Reason, "containers": &e.Containers},
		func(name string, v json.RawMessage) error {
			if string(v) == "null" {
				return nil // "tilt-lib:" with nothing: not injected
			}
			e.Components[name] = &expectedComponent{}
			return strictJSON(v, e.Components[name])
		})
}

// checkExpect compares the decision with expect.yaml: status and reason from the Result, the
// per-component ConfigMap and source and the target containers from the record in the patched Pod
// (what a user sees), and the version labels, which must agree with the record.
func checkExpect(t *testing.T, gc goldenCase, res mutate.Result, out *corev1.Pod) {
	t.Helper()
	var want expectation
	readYAML(t, filepath.Join(gc.dir, expectFile), &want, true)
	if res.Status != want.Status || res.Reason != want.Reason {
		t.Errorf("decision: status %q reason %q, %s wants status %q reason %q", res.Status, res.Reason, expectFile, want.Status, want.Reason)
	}
	pl := planOf(t, gc.opts, out)
	if !slices.Equal(pl.Record.Containers, want.Containers) && len(pl.Record.Containers)+len(want.Containers) > 0 {
		t.Errorf("target containers %q, %s wants %q", pl.Record.Containers, expectFile, want.Containers)
	}
	for name := range want.Components {
		if gc.opts.Component(name) == nil {
			t.Errorf("%s names component %q, which the case does not have", expectFile, name)
		}
	}
	for _, s := range componentSpecs(gc.opts) {
		got, want := pl.Record.component(s.volume), want.Components[s.volume]
		label := out.Labels[gc.opts.AnnotationPrefix+s.versionKey]
		requested := out.Labels[gc.opts.AnnotationPrefix+s.requestedKey]
		checkRequested(t, s, got, label, requested)
		if want != nil && (want.Label != "" && label != want.Label || want.Requested != "" && requested != want.Requested) {
			t.Errorf("%s: labels version %q requested %q, %s wants %q and %q", s.volume, label, requested, expectFile, want.Label, want.Requested)
		}
		switch {
		case want == nil && got != nil:
			t.Errorf("%s: injected %s from %s, %s wants it not injected", s.volume, got.ConfigMap, got.Source, expectFile)
		case want != nil && got == nil:
			t.Errorf("%s: not injected, %s wants %s from %s", s.volume, expectFile, want.ConfigMap, want.Source)
		case want != nil && (got.ConfigMap != want.ConfigMap || got.Source != want.Source):
			t.Errorf("%s: %s from %s, %s wants %s from %s", s.volume, got.ConfigMap, got.Source, expectFile, want.ConfigMap, want.Source)
		case want == nil && label != mutate.NoneLabel:
			t.Errorf("%s: not injected but label %q, want %q", s.volume, label, mutate.NoneLabel)
		}
		if want != nil && got != nil {
			checkRollout(t, s.volume, got.Rollout, want)
		}
	}
}

// checkRollout compares a component's recorded rollout entry with expect.yaml's arm and bucket.
func checkRollout(t *testing.T, volume string, got *recordRollout, want *expectedComponent) {
	t.Helper()
	switch {
	case want.Arm == "" && got != nil:
		t.Errorf("%s: recorded rollout %+v, %s wants none", volume, *got, expectFile)
	case want.Arm != "" && got == nil:
		t.Errorf("%s: no rollout recorded, %s wants arm %s", volume, expectFile, want.Arm)
	case got == nil:
	case got.Arm != want.Arm:
		t.Errorf("%s: rollout %s arm %s, %s wants %s", volume, got.Name, got.Arm, expectFile, want.Arm)
	case want.Bucket != nil && got.Bucket != *want.Bucket:
		t.Errorf("%s: rollout %s bucket %d, %s wants %d", volume, got.Name, got.Bucket, expectFile, *want.Bucket)
	}
}

// checkRequested asserts what docs/design.md says the two labels mean, whatever the case: the
// version label is the ConfigMap mounted (checked against the record by the oracle), the
// requested-version label the version asked for, which differs from it exactly when the Pod fell
// back; a component not mounted is "none" in both.
func checkRequested(t *testing.T, s componentSpec, rec *recordComponent, label, requested string) {
	t.Helper()
	switch {
	case rec == nil && requested != mutate.NoneLabel:
		t.Errorf("%s: not injected but requested-version %q, want %q", s.volume, requested, mutate.NoneLabel)
	case rec == nil:
	case requested == "" || requested == mutate.NoneLabel:
		t.Errorf("%s: injected but requested-version %q", s.volume, requested)
	case rec.Source == mutate.SourceFallback && requested == label:
		t.Errorf("%s: fell back, yet requested-version %q is the mounted version", s.volume, requested)
	case rec.Source != mutate.SourceFallback && requested != label:
		t.Errorf("%s: from the %s, yet requested-version %q differs from the mounted %q", s.volume, rec.Source, requested, label)
	}
}
