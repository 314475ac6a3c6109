package inject

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// splitYAML returns the documents of a YAML stream as the reader sees them.
func splitYAML(t *testing.T, s string) []string {
	t.Helper()
	var docs []string
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(s)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(doc))
	}
}

func only(t *testing.T, s string) string {
	t.Helper()
	docs := splitYAML(t, s)
	if len(docs) != 1 {
		t.Fatalf("got %d documents, want 1", len(docs))
	}
	return docs[0]
}

func decode(t *testing.T, doc string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil && !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("output does not decode: %v\n%s", err, doc)
	}
}

func decodePod(t *testing.T, doc string) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(doc), &pod); err != nil {
		t.Fatalf("output is not a Pod: %v\n%s", err, doc)
	}
	return pod
}

func wantVolume(t *testing.T, spec corev1.PodSpec, name, configMap string) {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name == name {
			if v.ConfigMap == nil || v.ConfigMap.Name != configMap || v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional {
				t.Errorf("volume %s = %+v, want optional ConfigMap %s", name, v.VolumeSource, configMap)
			}
			return
		}
	}
	t.Errorf("no volume %s in %+v", name, spec.Volumes)
}

func wantMounts(t *testing.T, c corev1.Container, paths ...string) {
	t.Helper()
	var got []string
	for _, m := range c.VolumeMounts {
		got = append(got, m.MountPath)
		if strings.HasPrefix(m.MountPath, "/apps/") && (!m.ReadOnly || m.SubPath != "") {
			t.Errorf("container %s: mount %+v, want read-only without subPath", c.Name, m)
		}
	}
	if !slices.Equal(got, paths) {
		t.Errorf("container %s mounts %q, want %q", c.Name, got, paths)
	}
}

// record is a Pod's injected annotation, read with mutate.Record (its one definition), with the
// product's two components at hand.
type record struct {
	Lib, Templates mutate.RecordComponent
	Containers     []string
}

func injected(t *testing.T, pod corev1.Pod) record {
	t.Helper()
	var r mutate.Record
	if err := json.Unmarshal([]byte(pod.Annotations["tilt-lib.platform/injected"]), &r); err != nil {
		t.Fatalf("injected annotation: %v", err)
	}
	at := func(name string) mutate.RecordComponent {
		if c := r.Component(name); c != nil {
			return *c
		}
		return mutate.RecordComponent{}
	}
	return record{Lib: at(mutate.LibVolume), Templates: at(mutate.TemplatesVolume), Containers: r.Containers}
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type op struct {
	Op, Path string
	Value    json.RawMessage
}

// printedPatch is one line of -o patch as a consumer reads it (declared again here, as the
// contract, not taken from output.go).
type printedPatch struct {
	APIVersion, Kind, Namespace, Name, GenerateName string
	Patch                                           json.RawMessage
}

func parsePatchLine(t *testing.T, line string) printedPatch {
	t.Helper()
	var l printedPatch
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.Kind == "" || len(l.Patch) == 0 {
		t.Fatalf("patch line %s: %v", line, err)
	}
	return l
}

// patchOf returns the patch of one -o patch line.
func patchOf(t *testing.T, line string) json.RawMessage {
	t.Helper()
	return parsePatchLine(t, line).Patch
}

func patchOps(t *testing.T, line string) []op {
	t.Helper()
	var ops []op
	if err := json.Unmarshal(patchOf(t, line), &ops); err != nil || len(ops) == 0 {
		t.Fatalf("patch %s: %v", line, err)
	}
	return ops
}

// wantPaths checks that the single patch printed adds at each of paths.
func wantPaths(t *testing.T, patch string, paths ...string) {
	t.Helper()
	ls := lines(patch)
	if len(ls) != 1 {
		t.Fatalf("-o patch printed %d lines, want 1", len(ls))
	}
	var got []string
	for _, o := range patchOps(t, ls[0]) {
		got = append(got, o.Path)
	}
	for _, p := range paths {
		if !slices.Contains(got, p) {
			t.Errorf("patch paths %q lack %s", got, p)
		}
	}
}

func wantPrefix(t *testing.T, patch, prefix string) {
	t.Helper()
	for _, line := range lines(patch) {
		var ops []op
		if err := json.Unmarshal(patchOf(t, line), &ops); err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			if o.Op != "add" || !strings.HasPrefix(o.Path, prefix) {
				t.Errorf("op %s %s, want add under %s", o.Op, o.Path, prefix)
			}
		}
	}
}

// wantWarning checks that one warning line starts with prefix and contains every one of parts.
func wantWarning(t *testing.T, g golden, prefix string, parts ...string) {
	t.Helper()
	for _, l := range lines(g.warnings) {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(l, p) }) {
			return
		}
	}
	t.Errorf("no warning %q... containing %q in:\n%s", prefix, parts, g.warnings)
}

func wantNoWarnings(t *testing.T, g golden) {
	t.Helper()
	for _, l := range lines(g.warnings) {
		if strings.HasPrefix(l, "Warning: ") {
			t.Errorf("unexpected warning: %s", l)
		}
	}
}

// wantSummary checks that stderr holds each of want as a whole line.
func wantSummary(t *testing.T, g golden, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(lines(g.warnings), w) {
			t.Errorf("no summary line %q in:\n%s", w, g.warnings)
		}
	}
}
