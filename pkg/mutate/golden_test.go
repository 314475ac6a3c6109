package mutate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/<case>/")

// fuzzDir is where `go test -fuzz` stores failing inputs; it is not a golden case.
const fuzzDir = "fuzz"

// goldenResult is result.golden.yaml: what the admission handler reports about a Pod.
type goldenResult struct {
	Status   string            `json:"status"`
	Outcome  mutate.Outcome    `json:"outcome"`
	Reason   mutate.Reason     `json:"reason"`
	Injected []goldenInjection `json:"injected,omitempty"`
	Findings []goldenFinding   `json:"findings,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
}

type goldenInjection struct {
	Component string        `json:"component"`
	ConfigMap string        `json:"configMap"`
	Label     string        `json:"label"`
	Requested string        `json:"requested"`
	Version   string        `json:"version,omitempty"`
	Source    mutate.Source `json:"source"`
	// Rollout is "<name> <arm> bucket <b>/<threshold>" when a rollout applied.
	Rollout string `json:"rollout,omitempty"`
}

type goldenFinding struct {
	Reason    mutate.Reason `json:"reason"`
	Component string        `json:"component,omitempty"`
	Message   string        `json:"message"`
}

func caseDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		switch {
		case e.Name() == fuzzDir:
		case !e.IsDir():
			t.Errorf("testdata/%s: only case directories belong in testdata", e.Name())
		default:
			dirs = append(dirs, filepath.Join("testdata", e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	return dirs
}

// TestGolden runs every case: its decision against expect.yaml, the invariants, the oracle, a
// second pass, and only then its goldens. Under -update the goldens are written only when every
// case passed all of that, so -update cannot bless a wrong decision.
func TestGolden(t *testing.T) {
	var pending []goldenFile
	passed := true
	for _, dir := range caseDirs(t) {
		passed = t.Run(filepath.Base(dir), func(t *testing.T) {
			files := runCase(t, dir)
			if t.Failed() {
				return
			}
			if *update {
				pending = append(pending, files...)
				return
			}
			for _, f := range files {
				checkGolden(t, f.name, f.content)
			}
		}) && passed
	}
	if !*update {
		return
	}
	if !passed {
		t.Fatalf("refusing to update: a case disagrees with its %s or breaks an invariant; no golden written", expectFile)
	}
	for _, f := range pending {
		if err := os.WriteFile(f.name, f.content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goldenFile is one golden's path and the content the case produced.
type goldenFile struct {
	name    string
	content []byte
}

// runCase mutates one case, checks the decision and every property, and returns its goldens.
func runCase(t *testing.T, dir string) []goldenFile {
	gc := loadCase(t, dir)
	res := mutate.Mutate(gc.opts, gc.req)

	patchJSON, err := json.MarshalIndent(nonNil(res.Patch), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	applied, err := applyOps(gc.podJSON, res.Patch)
	if err != nil {
		t.Fatalf("patch does not apply to the pod: %v\n%s", err, patchJSON)
	}
	out := decodePod(t, applied)
	podYAML, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	resYAML, err := yaml.Marshal(summarize(res))
	if err != nil {
		t.Fatal(err)
	}

	in := decodePod(t, gc.podJSON)
	checkExpect(t, gc, res, out)
	checkInvariants(t, gc.opts, in, out)
	checkOracle(t, gc, in, applied)
	checkResult(t, res)

	// Second pass: what the API server hands back on reinvocation or a re-submitted Pod.
	req2 := gc.req
	req2.Pod = out
	again := mutate.Mutate(gc.opts, req2)
	if len(again.Patch) != 0 {
		t.Errorf("not idempotent: second pass patch %s", mustJSON(t, again.Patch))
	}
	if again.Status != res.Status {
		t.Errorf("second pass status %q, first %q", again.Status, res.Status)
	}
	return []goldenFile{
		{filepath.Join(dir, patchGolden), append(patchJSON, '\n')},
		{filepath.Join(dir, podGolden), podYAML},
		{filepath.Join(dir, resultGolden), resYAML},
	}
}

// checkOracle compares our patch with the same decision applied the marshal-and-diff way.
func checkOracle(t *testing.T, gc goldenCase, in *corev1.Pod, applied []byte) {
	t.Helper()
	// The patch must produce canonical JSON: a value the Pod type would drop or rename (a typo in a
	// path, an unknown field) shows up as a difference after a typed round trip.
	if canon := mustJSON(t, decodePod(t, applied)); !sameJSON(t, applied, canon) {
		t.Errorf("patched pod has fields the Pod type does not know:\n%s", applied)
	}
	pl := planOf(t, gc.opts, decodePod(t, applied))
	checkRecordMounted(t, gc.opts, decodePod(t, applied), pl.Record)
	want := applyPlan(t, gc.opts, in, pl)
	wantJSON := mustJSON(t, want)
	if !sameJSON(t, applied, wantJSON) || !equality.Semantic.DeepEqual(decodePod(t, applied), want) {
		t.Errorf("patch result differs from the planned mutation:\ngot:  %s\nwant: %s", applied, wantJSON)
	}
	// controller-runtime's marshal-and-diff (the benchmark's baseline) must agree as well.
	resp := admission.PatchResponseFromRaw(gc.podJSON, wantJSON)
	if resp.Result != nil && resp.Result.Code != 0 {
		t.Fatalf("PatchResponseFromRaw: %v", resp.Result.Message)
	}
	viaDiff, err := applyOps(gc.podJSON, resp.Patches)
	if err != nil {
		t.Fatalf("diff patch does not apply: %v", err)
	}
	if !sameJSON(t, applied, viaDiff) {
		t.Errorf("marshal-and-diff gives another pod:\ngot:  %s\ndiff: %s", applied, viaDiff)
	}
}

// checkResult asserts the Result's fields agree with each other (the goldens pin the values).
func checkResult(t *testing.T, res mutate.Result) {
	t.Helper()
	switch {
	case len(res.Injected) > 0 && (res.Outcome != mutate.OutcomeInjected || res.Status != string(mutate.OutcomeInjected)):
		t.Errorf("injected %d components but outcome %q status %q", len(res.Injected), res.Outcome, res.Status)
	case len(res.Injected) == 0 && res.Outcome != mutate.OutcomeSkipped:
		t.Errorf("nothing injected but outcome %q", res.Outcome)
	case res.Outcome == mutate.OutcomeSkipped && res.Status != string(mutate.OutcomeInjected) &&
		res.Status != "skipped:"+string(res.Reason):
		t.Errorf("status %q does not carry reason %q", res.Status, res.Reason)
	}
	if res.Reason == "" {
		t.Errorf("empty reason: the metric label must always be set")
	}
	checkWarnings(t, res)
}

func summarize(res mutate.Result) goldenResult {
	g := goldenResult{Status: res.Status, Outcome: res.Outcome, Reason: res.Reason, Warnings: res.Warnings}
	for _, in := range res.Injected {
		gi := goldenInjection{in.Component, in.ConfigMap, in.Label, in.Requested, in.Version, in.Source, ""}
		if ro := in.Rollout; ro.Name != "" {
			gi.Rollout = fmt.Sprintf("%s %s bucket %d/%d", ro.Name, ro.Arm, ro.Bucket, ro.Threshold)
		}
		g.Injected = append(g.Injected, gi)
	}
	for _, f := range res.Findings {
		g.Findings = append(g.Findings, goldenFinding{f.Reason, f.Component, f.Message})
	}
	return g
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkGolden compares got with file (TestGolden writes it instead under -update).
func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("missing golden (run go test ./pkg/mutate -update): %v", err)
		return
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale (run go test ./pkg/mutate -update and review the diff):\n%s", file, lineDiff(want, got))
	}
}

// lineDiff shows the first differing line with a little context: enough to see what changed
// without pulling in a diff library.
func lineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	line := func(s []string, j int) string {
		if j < len(s) {
			return s[j]
		}
		return "<EOF>"
	}
	var b strings.Builder
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	fmt.Fprintf(&b, "- %s\n+ %s\n", line(w, i), line(g, i))
	return b.String()
}

// TestGoldenFiles fails on a case without pod.yaml, on unknown files (a golden left behind by a
// renamed case) and, outside -update, on a case missing one of its goldens.
func TestGoldenFiles(t *testing.T) {
	known := append(slices.Clone(caseInputs), caseGoldens...)
	for _, dir := range caseDirs(t) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
			if !slices.Contains(known, e.Name()) {
				t.Errorf("%s/%s: not an input or golden of a case (orphan?)", dir, e.Name())
			}
		}
		for _, required := range []string{podFile, expectFile} {
			if !slices.Contains(names, required) {
				t.Errorf("%s: no %s (a case needs its input and its hand-written decision)", dir, required)
			}
		}
		for _, g := range caseGoldens {
			if !*update && !slices.Contains(names, g) {
				t.Errorf("%s: missing %s (run go test ./pkg/mutate -update)", dir, g)
			}
		}
	}
}
