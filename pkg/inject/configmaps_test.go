package inject

import (
	"os"
	"path/filepath"
	"testing"
)

func TestConfigMapsLookup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cms.yaml")
	content := `apiVersion: v1
kind: ConfigMap
metadata: {name: tilt-lib, labels: {release: 1.0.0, version: ignored}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tilt-lib, namespace: team-a, labels: {release: 1.1.0}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tilt-lib-v2, namespace: team-a}
---
apiVersion: apps/v1
kind: ConfigMap
metadata: {name: not-core, namespace: team-a}
`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cms, err := loadConfigMaps(file, "release")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		namespace, name string
		exists          bool
		version         string
	}{
		{"team-a", "tilt-lib", true, "1.1.0"}, // the namespace's own wins
		{"team-b", "tilt-lib", true, "1.0.0"}, // no namespace: exists everywhere
		{"team-a", "tilt-lib-v2", true, ""},   // no version label
		{"team-b", "tilt-lib-v2", false, ""},  // only in team-a
		{"team-a", "not-core", false, ""},     // not a v1 ConfigMap
		{"team-a", "tilt-templates", false, ""},
	}
	for _, tt := range tests {
		exists, version := cms.Lookup(tt.namespace, tt.name)
		if exists != tt.exists || version != tt.version {
			t.Errorf("Lookup(%s, %s) = %v, %q; want %v, %q", tt.namespace, tt.name, exists, version, tt.exists, tt.version)
		}
	}
}
