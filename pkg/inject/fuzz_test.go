package inject

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// FuzzRun: Run never panics, and whatever it prints it accepts again.
func FuzzRun(f *testing.F) {
	for _, s := range malformed {
		f.Add(s)
	}
	inputs, _ := filepath.Glob("testdata/*/input.*")
	for _, file := range inputs {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		o := DefaultOptions()
		var patch bytes.Buffer
		o.Output = OutputPatch
		_ = Run(o, strings.NewReader(in), &patch, &bytes.Buffer{})

		var out bytes.Buffer
		o.Output = OutputYAML
		if err := Run(o, strings.NewReader(in), &out, &bytes.Buffer{}); err != nil {
			return
		}
		if err := Run(o, bytes.NewReader(out.Bytes()), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Errorf("output of\n%q\nis not accepted again: %v\n%s", in, err, out.String())
		}
	})
}
