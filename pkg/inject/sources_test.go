package inject

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// namedPod is a workspace Pod called name.
func namedPod(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", labels: {app.kubernetes.io/name: coder-workspace}}\n" +
		"spec: {containers: [{name: dev, image: x}]}\n"
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runFiles runs with o.Filenames = files and returns the summary lines naming objects.
func runFiles(t *testing.T, o Options, stdin string, files ...string) (stdout, stderr string, err error) {
	t.Helper()
	o.Filenames = files
	var out, errOut bytes.Buffer
	err = Run(o, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// Several -f are all read, in the order given; a directory gives its manifests in lexical order,
// its subdirectories only with Recursive; stdin goes where "-" is.
func TestFilenamesAllReadInOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml":        namedPod("a"),
		"b.yaml":        namedPod("b"),
		"d/1.yaml":      namedPod("d1"),
		"d/2.json":      `{"apiVersion":"v1","kind":"Service","metadata":{"name":"d2"}}`,
		"d/README.md":   "not a manifest",
		"d/sub/3.yml":   namedPod("d3"),
		"d/sub/x/4.yml": namedPod("d4"),
	})
	at := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name      string
		recursive bool
		files     []string
		want      []string // object names in output order
	}{
		{"two files", false, []string{at("a.yaml"), at("b.yaml")}, []string{"a", "b"}},
		{"reversed", false, []string{at("b.yaml"), at("a.yaml")}, []string{"b", "a"}},
		{"stdin between", false, []string{at("b.yaml"), "-", at("a.yaml")}, []string{"b", "in", "a"}},
		{"directory", false, []string{at("d")}, []string{"d1", "d2"}},
		{"directory -R", true, []string{at("d"), at("a.yaml")}, []string{"d1", "d2", "d3", "d4", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Recursive = tt.recursive
			out, _, err := runFiles(t, o, namedPod("in"), tt.files...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, doc := range splitYAML(t, out) {
				var m struct{ Metadata struct{ Name string } }
				decode(t, doc, &m)
				got = append(got, m.Metadata.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("objects %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilenamesErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.yaml": namedPod("a"), "only-sub/sub/b.yaml": namedPod("b"), "bad.yaml": "kind: [\n"})
	tests := []struct {
		name  string
		files []string
		is    error
		parts []string
	}{
		{"stdin twice", []string{"-", filepath.Join(dir, "a.yaml"), "-"}, ErrFilenames, []string{"stdin (-) can be read only once"}},
		{"missing file", []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "nope.yaml")}, fs.ErrNotExist, []string{"nope.yaml"}},
		{"directory without manifests", []string{filepath.Join(dir, "only-sub")}, ErrNoObjects, []string{"only-sub", "-R"}},
		{"a bad file among good ones", []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "bad.yaml")}, ErrInvalidDocument,
			[]string{filepath.Join(dir, "bad.yaml") + ": invalid document 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runFiles(t, DefaultOptions(), namedPod("in"), tt.files...)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Run() = %v, want %v", err, tt.is)
			}
			for _, p := range tt.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not contain %q", err, p)
				}
			}
			if out != "" || errOut != "" {
				t.Errorf("wrote output despite the error")
			}
		})
	}
}

// padded returns a workspace Pod as JSON followed by blanks, size bytes in all (blanks between
// JSON values cost next to nothing to parse, so the test measures the bound, not the parser).
func padded(t *testing.T, size int) string {
	t.Helper()
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app.kubernetes.io/name":"coder-workspace"}},` +
		`"spec":{"containers":[{"name":"dev","image":"x"}]}}`
	return pod + strings.Repeat(" ", size-len(pod))
}

// Every file is read up to MaxFileBytes, and all -f inputs up to MaxInputBytes: at the bound they
// are read, one byte more is refused before anything is parsed.
func TestInputSizeBounds(t *testing.T) {
	if raceEnabled {
		t.Skip("reads tens of MiB: minutes under the race detector; runs without -race")
	}
	atFile := padded(t, MaxFileBytes)
	dir := writeFiles(t, map[string]string{"at.json": atFile, "over.json": atFile + " ", "one.json": " ", "pod.yaml": namedPod("x")})
	at, over, one, pod := filepath.Join(dir, "at.json"), filepath.Join(dir, "over.json"), filepath.Join(dir, "one.json"), filepath.Join(dir, "pod.yaml")

	if _, _, err := runFiles(t, DefaultOptions(), "", at); err != nil {
		t.Errorf("a file of MaxFileBytes: %v", err)
	}
	if _, _, err := runFiles(t, DefaultOptions(), "", over); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), over) {
		t.Errorf("a file of MaxFileBytes+1: %v, want ErrTooLarge naming it", err)
	}
	if _, _, err := runFiles(t, DefaultOptions(), atFile+" ", "-"); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "input: ") {
		t.Errorf("stdin of MaxFileBytes+1: %v, want ErrTooLarge", err)
	}
	if _, _, err := runFiles(t, DefaultOptions(), "", at, at); err != nil { // MaxInputBytes exactly
		t.Errorf("-f inputs of MaxInputBytes together: %v", err)
	}
	_, _, err := runFiles(t, DefaultOptions(), "", at, at, one)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "all -f inputs together") {
		t.Errorf("-f inputs of MaxInputBytes+1 together: %v, want ErrTooLarge", err)
	}
	o := DefaultOptions()
	o.NamespaceFile = over
	if _, _, err := runFiles(t, o, "", pod); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "namespace file") {
		t.Errorf("--namespace-file of MaxFileBytes+1: %v", err)
	}
	o = DefaultOptions()
	o.ConfigMapsFile = over
	if _, _, err := runFiles(t, o, "", pod); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "configmaps file") {
		t.Errorf("--configmaps-file of MaxFileBytes+1: %v", err)
	}
}

// One document may be MaxDocumentBytes as JSON, not one byte more.
func TestDocumentSizeBound(t *testing.T) {
	if raceEnabled {
		t.Skip("reads tens of MiB: minutes under the race detector; runs without -race")
	}
	pod := func(size int) string {
		const head, tail = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"pad":"`, `"}},"spec":{"containers":[{"name":"dev"}]}}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	o := DefaultOptions()
	o.WorkspaceSelector = ""
	if _, _, err := runFiles(t, o, pod(MaxDocumentBytes), "-"); err != nil {
		t.Errorf("a JSON document of MaxDocumentBytes: %v", err)
	}
	_, _, err := runFiles(t, o, "{}\n"+pod(MaxDocumentBytes+1), "-")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "input: invalid document 2: ") {
		t.Errorf("a JSON document of MaxDocumentBytes+1: %v, want ErrTooLarge naming document 2", err)
	}
	// As YAML the bound applies to the document as JSON.
	yamlPod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {pad: " + strings.Repeat("x", MaxDocumentBytes) + "}}\n"
	if _, _, err := runFiles(t, o, yamlPod, "-"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a YAML document above MaxDocumentBytes as JSON: %v, want ErrTooLarge", err)
	}
}
