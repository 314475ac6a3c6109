package inject

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

const okPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: ws}\nspec: {containers: [{name: dev, image: x}]}\n"

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing.yaml")
	wrongKind := file("cm-as-ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	twoNamespaces := file("two-ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	badConfigMaps := file("bad-cms.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: tilt-lib}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: tilt-lib-v2, labels: [version]}\n")

	tests := []struct {
		name  string
		opts  func(*Options)
		input string
		is    error    // errors.Is target
		parts []string // the message contains each
	}{
		{name: "garbage YAML", input: "kind: Pod\n  name: [unclosed\n", is: ErrInvalidDocument,
			parts: []string{"pod.yaml: invalid document 1: not valid YAML"}},
		{name: "plain text", input: "hello world\n", is: ErrInvalidDocument,
			parts: []string{"pod.yaml: invalid document 1: not a Kubernetes object"}},
		{name: "no kind", input: okPod + "---\nfoo: bar\n", is: ErrInvalidDocument,
			parts: []string{"invalid document 2", "no kind"}},
		{name: "broken JSON", input: `{"apiVersion": "v1", "kind": "Pod",`, is: ErrInvalidDocument,
			parts: []string{"invalid document 1: not valid JSON"}},
		{name: "second JSON value broken", input: `{"apiVersion": "v1", "kind": "Pod"} {"kind": x}`, is: ErrInvalidDocument,
			parts: []string{"invalid document 2"}},
		{name: "bad separator", input: okPod + "--- not a comment\n" + okPod, is: ErrInvalidDocument,
			parts: []string{"document separator"}},
		{name: "duplicate key", input: "apiVersion: v1\nkind: Pod\nkind: Service\n", is: ErrInvalidDocument,
			parts: []string{"invalid document 1"}},
		{name: "Pod that does not decode", input: okPod + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec: {containers: dev}\n",
			is: ErrInvalidDocument, parts: []string{"pod.yaml: invalid document 2", `Pod "broken" does not decode`}},
		{name: "List item that does not decode",
			input: `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service"},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"volumes":{}}}]}`,
			is:    ErrInvalidDocument, parts: []string{"invalid document 1 (List item 2)", `Pod "p"`}},
		{name: "template not an object", input: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: yes}\n",
			is: ErrInvalidDocument, parts: []string{`Deployment "d" does not decode`, "spec.template"}},
		{name: "empty input", input: "", is: ErrNoObjects, parts: []string{"pod.yaml: no objects in input"}},
		{name: "only comments", input: "# nothing here\n---\n\n---\n", is: ErrNoObjects},
		{name: "bad -o", opts: func(o *Options) { o.Output = "json" }, input: okPod, is: ErrOutputFormat,
			parts: []string{`"json"`, "yaml", "patch"}},
		{name: "bad workspace selector", opts: func(o *Options) { o.WorkspaceSelector = "a in (b" }, input: okPod, is: ErrSelector,
			parts: []string{`"a in (b"`}},
		{name: "invalid mutate options", opts: func(o *Options) { o.Mutate.AnnotationPrefix = "" }, input: okPod,
			is: mutate.ErrInvalidOptions},
		{name: "missing namespace file", opts: func(o *Options) { o.NamespaceFile = missing }, input: okPod,
			is: fs.ErrNotExist, parts: []string{"namespace file", missing}},
		{name: "namespace file of another kind", opts: func(o *Options) { o.NamespaceFile = wrongKind }, input: okPod,
			is: ErrInvalidDocument, parts: []string{wrongKind, "holds no v1 Namespace"}},
		{name: "one namespace twice", opts: func(o *Options) { o.NamespaceFile = twoNamespaces }, input: okPod,
			is: ErrInvalidDocument, parts: []string{twoNamespaces + ": invalid document 2", `Namespace "a" is also in`}},
		{name: "one namespace twice in the input", input: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n" + okPod +
			"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", is: ErrInvalidDocument,
			parts: []string{"pod.yaml: invalid document 3", `Namespace "a" is also in pod.yaml document 1`}},
		{name: "missing configmaps file", opts: func(o *Options) { o.ConfigMapsFile = missing }, input: okPod,
			is: fs.ErrNotExist, parts: []string{"configmaps file", missing}},
		{name: "configmaps file item that does not decode", opts: func(o *Options) { o.ConfigMapsFile = badConfigMaps }, input: okPod,
			is: ErrInvalidDocument, parts: []string{badConfigMaps + ": invalid document 1 (List item 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.InputName = "pod.yaml"
			if tt.opts != nil {
				tt.opts(&o)
			}
			var out, errOut bytes.Buffer
			err := Run(o, strings.NewReader(tt.input), &out, &errOut)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Run() = %v, want an error wrapping %v", err, tt.is)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not contain %q", err, p)
				}
			}
			if out.Len() > 0 || errOut.Len() > 0 {
				t.Errorf("wrote output despite the error:\n%s\n%s", out.String(), errOut.String())
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestRunUnreadableInput(t *testing.T) {
	o := DefaultOptions()
	o.InputName = "pod.yaml"
	err := Run(o, failingReader{}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "pod.yaml: disk on fire") {
		t.Fatalf("Run() = %v, want the input named", err)
	}
}
