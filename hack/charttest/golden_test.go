package charttest

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the current chart")

// goldenCases are the value files of testdata, each rendered to <case>.golden.yaml.
func goldenCases(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.values.yaml: %v", err)
	}
	var cases []string
	for _, f := range files {
		cases = append(cases, strings.TrimSuffix(filepath.Base(f), ".values.yaml"))
	}
	return cases
}

// TestGolden: each case renders byte for byte as its golden file. The decisions inside are checked
// by the other tests on the parsed objects, so -update cannot re-bless a changed decision silently.
func TestGolden(t *testing.T) {
	cases := goldenCases(t)
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			out, err := template(t, "-f", filepath.Join("testdata", c+".values.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			parse(t, out) // every golden is valid YAML
			golden := filepath.Join("testdata", c+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./hack/charttest -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("%s is stale (run go test ./hack/charttest -update and review the diff)", golden)
			}
		})
	}
	goldens, _ := filepath.Glob(filepath.Join("testdata", "*.golden.yaml"))
	for _, g := range goldens {
		c := strings.TrimSuffix(filepath.Base(g), ".golden.yaml")
		if _, err := os.Stat(filepath.Join("testdata", c+".values.yaml")); err != nil {
			t.Errorf("%s has no values file: orphaned golden", g)
		}
	}
}

// TestLint: helm lint --strict accepts the chart with default values and with each case's values.
func TestLint(t *testing.T) {
	for _, c := range goldenCases(t) {
		out, err := exec.Command(helm(t), "lint", "--strict", chartDir, "-f", filepath.Join("testdata", c+".values.yaml")).CombinedOutput()
		if err != nil {
			t.Errorf("helm lint %s: %v\n%s", c, err, out)
		}
	}
}
