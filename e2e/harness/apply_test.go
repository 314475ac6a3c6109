package harness

import (
	"path/filepath"
	"testing"
)

// TestExamplesParse keeps examples/ (what `make demo` applies) decodable without a cluster.
func TestExamplesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			kinds[o.GetKind()]++
		}
	}
	if kinds["Namespace"] < 2 || kinds["ConfigMap"] < 6 || kinds["Deployment"] < 2 {
		t.Errorf("examples/ should seed two namespaces, their ConfigMaps and workspaces; got %v", kinds)
	}
}
