package mutate_test

import (
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

// expectation is expect.yaml. A component absent from it must not be injected.
type expectation struct {
	Status     string             `json:"status"`
	Reason     mutate.Reason      `json:"reason"`
	Containers []string           `json:"containers"`
	Lib        *expectedComponent `json:"tilt-lib"`
	Templates  *expectedComponent `json:"tilt-templates"`
}

type expectedComponent struct {
	ConfigMap string        `json:"configMap"`
	Source    mutate.Source `json:"source"`
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
	for _, c := range []struct {
		volume, labelKey string
		got              *recordComponent
		want             *expectedComponent
	}{
		{mutate.LibVolume, mutate.KeyVersion, pl.Record.Lib, want.Lib},
		{mutate.TemplatesVolume, mutate.KeyTemplatesVersion, pl.Record.Templates, want.Templates},
	} {
		label := out.Labels[gc.opts.AnnotationPrefix+c.labelKey]
		switch {
		case c.want == nil && c.got != nil:
			t.Errorf("%s: injected %s from %s, %s wants it not injected", c.volume, c.got.ConfigMap, c.got.Source, expectFile)
		case c.want != nil && c.got == nil:
			t.Errorf("%s: not injected, %s wants %s from %s", c.volume, expectFile, c.want.ConfigMap, c.want.Source)
		case c.want != nil && (c.got.ConfigMap != c.want.ConfigMap || c.got.Source != c.want.Source):
			t.Errorf("%s: %s from %s, %s wants %s from %s", c.volume, c.got.ConfigMap, c.got.Source, expectFile, c.want.ConfigMap, c.want.Source)
		case c.want == nil && label != mutate.NoneLabel:
			t.Errorf("%s: not injected but label %q, want %q", c.volume, label, mutate.NoneLabel)
		}
	}
}
