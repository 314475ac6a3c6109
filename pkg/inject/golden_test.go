package inject

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// A golden case is a directory testdata/<name>/ holding
//
//	input.yaml | input.json       the objects to mutate
//	namespace.yaml                optional: --namespace-file
//	configmaps.yaml               optional: --configmaps-file
//	selector.txt                  optional: the workspace selector ("" selects every Pod)
//	out.yaml.golden               stdout with -o yaml
//	out.patch.golden              stdout with -o patch
//	warnings.golden               stderr (the same for both outputs)
//
// Every case also runs a second time on its own output, which must change nothing.
var goldenFiles = []string{"out.yaml.golden", "out.patch.golden", "warnings.golden"}

// golden is what a case printed.
type golden struct {
	yaml, patch, warnings string
}

// runCase runs Run on the case's files with the given output format.
func runCase(t *testing.T, dir, output string, in []byte) (stdout, stderr string) {
	t.Helper()
	o := DefaultOptions()
	o.Output = output
	o.InputName = "input"
	if f := filepath.Join(dir, "namespace.yaml"); exists(f) {
		o.NamespaceFile = f
	}
	if f := filepath.Join(dir, "configmaps.yaml"); exists(f) {
		o.ConfigMapsFile = f
	}
	if b, err := os.ReadFile(filepath.Join(dir, "selector.txt")); err == nil {
		o.WorkspaceSelector = strings.TrimSpace(string(b))
	}
	var out, errOut bytes.Buffer
	if err := Run(o, bytes.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("Run(-o %s): %v", output, err)
	}
	return out.String(), errOut.String()
}

func exists(f string) bool {
	_, err := os.Stat(f)
	return err == nil
}

func inputFile(t *testing.T, dir string) []byte {
	t.Helper()
	for _, name := range []string{"input.yaml", "input.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return b
		}
	}
	t.Fatalf("%s: no input.yaml or input.json", dir)
	return nil
}

// runGolden runs one case in both output formats, compares with (or rewrites) the golden files,
// checks the second pass and returns what was printed.
func runGolden(t *testing.T, name string) golden {
	t.Helper()
	dir := filepath.Join("testdata", name)
	in := inputFile(t, dir)
	var g golden
	var patchWarnings string
	g.yaml, g.warnings = runCase(t, dir, OutputYAML, in)
	g.patch, patchWarnings = runCase(t, dir, OutputPatch, in)
	if patchWarnings != g.warnings {
		t.Errorf("warnings differ between outputs:\n-o yaml:\n%s\n-o patch:\n%s", g.warnings, patchWarnings)
	}
	got := map[string]string{"out.yaml.golden": g.yaml, "out.patch.golden": g.patch, "warnings.golden": g.warnings}
	for _, file := range goldenFiles {
		path := filepath.Join(dir, file)
		if *update {
			if err := os.WriteFile(path, []byte(got[file]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./pkg/inject -update)", err)
		}
		if got[file] != string(want) {
			t.Errorf("%s is stale (run go test ./pkg/inject -update); got:\n%s", path, got[file])
		}
	}

	// Idempotence: the mutated output, mutated again, is printed back byte for byte and every
	// patch is empty.
	again, _ := runCase(t, dir, OutputYAML, []byte(g.yaml))
	if again != g.yaml {
		t.Errorf("second pass changed the output:\n%s", again)
	}
	patches, _ := runCase(t, dir, OutputPatch, []byte(g.yaml))
	for _, line := range lines(patches) {
		if p := patchOf(t, line); string(p) != "[]" {
			t.Errorf("second pass patch = %s, want []", line)
		}
	}
	return g
}

// TestNoOrphanedGoldens fails on a testdata directory no case runs, and on a file no case reads.
func TestNoOrphanedGoldens(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	known := []string{"input.yaml", "input.json", "namespace.yaml", "configmaps.yaml", "selector.txt"}
	known = append(known, goldenFiles...)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "fuzz" {
			continue
		}
		if _, ok := goldenCases[e.Name()]; !ok {
			t.Errorf("testdata/%s: no golden case runs it", e.Name())
		}
		files, err := os.ReadDir(filepath.Join("testdata", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !slices.Contains(known, f.Name()) {
				t.Errorf("testdata/%s/%s: not read by any test", e.Name(), f.Name())
			}
		}
	}
}
