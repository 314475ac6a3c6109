package inject

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
)

// malformed are inputs that once looked likely to trip a decoder or the patch; none may panic.
var malformed = []string{
	"",
	"---\n---\n",
	"{",
	"[1, 2]",
	"null",
	"\x00\xff\xfe",
	strings.Repeat("[", 20000),
	strings.Repeat("- ", 5000) + "x",
	"a: &a\n  b: *a\n",
	"kind: Pod\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
	"kind: [Pod]\n",
	"apiVersion: 5\nkind: Pod\n",
	"kind: Pod\n",
	"kind: Pod\nmetadata: 5\n",
	"kind: Pod\nmetadata: null\nspec: null\n",
	"kind: Pod\nspec: {containers: [null]}\n",
	"kind: Pod\nspec: {containers: [{}, {}]}\n",
	"kind: Pod\nmetadata: {annotations: null, labels: null}\nspec: {containers: [{name: dev, volumeMounts: null}], volumes: null}\n",
	"kind: Pod\nmetadata: {annotations: {}, labels: {}}\nspec: {containers: [{name: dev, volumeMounts: []}], volumes: []}\n",
	"kind: Pod\nmetadata: {annotations: {tilt-lib.platform/containers: ',,,'}}\nspec: {containers: [{name: dev}]}\n",
	"kind: Pod\nspec: {containers: [{name: dev, volumeMounts: [{name: x, mountPath: /apps/tilt-lib/}]}]}\n",
	`{"kind":"Pod","spec":{"containers":[{"name":"dev"}],"volumes":[{"name":"tilt-lib"}]}}`,
	`{"kind":"Pod","spec":{"containers":[{"name":"dev"}]},"Spec":{"Containers":[]}}`,
	`{"kind":"Pod","spec":{"containers":[{"name":"dev"}],"containers":[]}}`,
	"apiVersion: apps/v1\nkind: Deployment\nspec: {template: {metadata: null, spec: {containers: [{}]}}}\n",
	"apiVersion: apps/v1\nkind: Deployment\nspec: 5\n",
	"apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: {spec: null}}\n",
	"apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: []}\n",
	"kind: List\nitems: [1, null, {kind: Pod}]\n",
	"kind: List\nitems: 5\n",
	"kind: PodList\nitems: [{kind: Pod, spec: {containers: [{name: a}]}}]\n",
	"kind: List\nitems: [{kind: List, items: [{kind: Pod}]}]\n",
}

// FuzzRun: Run never panics, and whenever it accepts an input,
//   - its output parses and re-injecting it changes nothing (the same bytes, every patch empty);
//   - -o patch succeeds too, and each patch applied to its input object gives that object as
//     printed by -o yaml.
//
// every selects every Pod, so that the mutation runs on whatever the fuzzer makes up.
func FuzzRun(f *testing.F) {
	for _, s := range malformed {
		f.Add(s, true)
	}
	inputs, _ := filepath.Glob("testdata/*/input.*")
	for _, file := range inputs {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b), true)
			f.Add(string(b), false)
		}
	}
	f.Fuzz(func(t *testing.T, in string, every bool) {
		o := DefaultOptions()
		if every {
			o.WorkspaceSelector = ""
		}
		var out bytes.Buffer
		if err := Run(o, strings.NewReader(in), &out, &bytes.Buffer{}); err != nil {
			return
		}
		o.Output = OutputPatch
		var patches bytes.Buffer
		if err := Run(o, strings.NewReader(in), &patches, &bytes.Buffer{}); err != nil {
			t.Fatalf("-o yaml accepted, -o patch failed: %v\n%q", err, in)
		}

		o.Output = OutputYAML
		var again bytes.Buffer
		if err := Run(o, bytes.NewReader(out.Bytes()), &again, &bytes.Buffer{}); err != nil {
			t.Fatalf("output of\n%q\nis not accepted again: %v\n%s", in, err, out.String())
		}
		if again.String() != out.String() {
			t.Fatalf("re-injecting changed the output of\n%q\nfirst:\n%s\nsecond:\n%s", in, out.String(), again.String())
		}
		o.Output = OutputPatch
		var second bytes.Buffer
		if err := Run(o, bytes.NewReader(out.Bytes()), &second, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines(second.String()) {
			var pl struct{ Patch json.RawMessage }
			if err := json.Unmarshal([]byte(l), &pl); err != nil || string(pl.Patch) != "[]" {
				t.Fatalf("second pass patch %s (%v), want []", l, err)
			}
		}

		checkPatchesApply(t, in, out.String(), patches.String())
	})
}

// checkPatchesApply applies each printed patch to its object of in and compares the result with
// that object in the printed YAML: the patch and the YAML must tell the same story.
func checkPatchesApply(t *testing.T, in, out, patches string) {
	t.Helper()
	before, after := podObjects(t, in), podObjects(t, out)
	ls := lines(patches)
	if len(before) != len(after) || len(ls) != len(before) {
		t.Fatalf("%d objects with a Pod in, %d out, %d patch lines", len(before), len(after), len(ls))
	}
	for i, l := range ls {
		var pl struct{ Patch json.RawMessage }
		if err := json.Unmarshal([]byte(l), &pl); err != nil {
			t.Fatalf("patch line %s: %v", l, err)
		}
		p, err := jsonpatch5.DecodePatch(pl.Patch)
		if err != nil {
			t.Fatalf("patch %s: %v", pl.Patch, err)
		}
		patched, err := p.Apply(before[i])
		if err != nil {
			t.Fatalf("patch %s does not apply to %s: %v", pl.Patch, before[i], err)
		}
		if !jsonEqual(t, patched, after[i]) {
			t.Fatalf("patch gives\n%s\nthe YAML output holds\n%s", patched, after[i])
		}
	}
}

// podObjects returns, in order, the objects of a stream that carry a Pod, as JSON.
func podObjects(t *testing.T, stream string) [][]byte {
	t.Helper()
	docs, err := readDocuments("in", []byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	all, err := parseAll([]source{{name: "in", docs: docs}})
	if err != nil {
		t.Fatal(err)
	}
	var objs [][]byte
	for _, d := range all {
		for _, it := range d.items {
			if _, ok := podPath(it.h); ok {
				objs = append(objs, it.json)
			}
		}
	}
	return objs
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
