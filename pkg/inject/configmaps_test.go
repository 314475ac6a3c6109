package inject

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
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
	cms, err := loadConfigMaps(file, "release", labels.Everything())
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
		version, exists := cms.Version(tt.namespace, tt.name)
		if exists != tt.exists || version != tt.version {
			t.Errorf("Version(%s, %s) = %q, %v; want %q, %v", tt.namespace, tt.name, version, exists, tt.version, tt.exists)
		}
	}
}

// A --configmaps-file without ConfigMaps is a mistake (the wrong file), not "none exist"; an
// empty List says "none exist" on purpose.
func TestConfigMapsFileWithoutConfigMaps(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pod.yaml":   namedPod("p"),
		"empty.yaml": "# nothing\n",
		"none.json":  `{"apiVersion":"v1","kind":"List","items":[]}`,
	})
	for _, name := range []string{"pod.yaml", "empty.yaml"} {
		o := DefaultOptions()
		o.ConfigMapsFile = filepath.Join(dir, name)
		_, _, err := runFiles(t, o, namedPod("ws"), "-")
		if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), o.ConfigMapsFile+": invalid document: holds no v1 ConfigMap") {
			t.Errorf("%s: %v, want an error saying it holds no ConfigMap", name, err)
		}
	}
	o := DefaultOptions()
	o.ConfigMapsFile = filepath.Join(dir, "none.json")
	out, errOut, err := runFiles(t, o, namedPod("ws"), "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, `ConfigMap "tilt-lib" (from the server default) not found`) || !strings.Contains(out, "name: tilt-lib\n") {
		t.Errorf("an empty List: want every ConfigMap missing, the default mounted anyway:\n%s\n%s", out, errOut)
	}
}

// A configured default or alias target that no namespace has is reported once, with its reason:
// it is most likely a typo that would otherwise mount an empty volume everywhere.
func TestMissingDefaultAndAliasTargets(t *testing.T) {
	cm := func(name, namespace string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + namespace + "}\n---\n"
	}
	cms := cm("tilt-lib", "team-a") + cm("tilt-lib-v2", "team-a") + cm("tilt-templates", "team-b") + cm("tilt-templates-v3", "team-b")
	// The unversioned tilt-templates in no namespace: every unpinned workspace mounts it empty.
	noTemplates := cm("tilt-lib", "team-a") + cm("tilt-lib-v2", "team-a")
	dir := writeFiles(t, map[string]string{"cms.yaml": cms, "no-templates.yaml": noTemplates})
	tests := []struct {
		name        string
		lib, tmpl   string
		aliases     map[string]string
		fromInput   bool
		file        string   // --configmaps-file in dir; default cms.yaml
		wantMissing []string // substrings of the expected configmap_missing warnings, in order
	}{
		{name: "typo in --default-version", lib: "stabel", wantMissing: []string{`--default-version "stabel": no ConfigMap "tilt-lib-stabel" in any namespace of ` + filepath.Join(dir, "cms.yaml")}},
		{name: "defaults that exist in some namespace", lib: "v2", tmpl: "v3"},
		{name: "default through an alias", lib: "stable", aliases: map[string]string{"stable": "v9"},
			wantMissing: []string{`--default-version "stable": no ConfigMap "tilt-lib-v9"`, `--alias stable=v9: neither ConfigMap "tilt-lib-v9" nor "tilt-templates-v9"`}},
		{name: "alias matching one component is fine", aliases: map[string]string{"next": "v3", "latest": "default"}},
		{name: "templates default", tmpl: "v2", wantMissing: []string{`--default-templates-version "v2": no ConfigMap "tilt-templates-v2"`}},
		{name: "ConfigMaps from the input", lib: "stabel", fromInput: true, wantMissing: []string{`no ConfigMap "tilt-lib-stabel" in any namespace of the input`}},
		// serve warns about it too (mutate.Options.MissingTargets): the unversioned default is checked.
		{name: "unversioned default in no namespace", file: "no-templates.yaml",
			wantMissing: []string{`--default-templates-version "": no ConfigMap "tilt-templates" in any namespace of ` + filepath.Join(dir, "no-templates.yaml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			lib, tmpl := o.Mutate.Component(mutate.LibVolume), o.Mutate.Component(mutate.TemplatesVolume)
			lib.DefaultVersion, tmpl.DefaultVersion, o.Mutate.Aliases = tt.lib, tt.tmpl, tt.aliases
			if tt.file == "" {
				tt.file = "cms.yaml"
			}
			in := namedPod("ws")
			if tt.fromInput {
				in = cms + in
			} else {
				o.ConfigMapsFile = filepath.Join(dir, tt.file)
			}
			_, errOut, err := runFiles(t, o, in, "-")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(l, "Warning: tilt-lib-injector: --") {
					got = append(got, l)
				}
			}
			if len(got) != len(tt.wantMissing) {
				t.Fatalf("warnings %q, want %d", got, len(tt.wantMissing))
			}
			for i, w := range tt.wantMissing {
				if !strings.Contains(got[i], w) || !strings.HasSuffix(got[i], " (reason: configmap_missing)") {
					t.Errorf("warning %q, want it to contain %q and end with its reason", got[i], w)
				}
			}
		})
	}
	// Without any known ConfigMap nothing can be missing: no warning.
	o := DefaultOptions()
	o.Mutate.Component(mutate.LibVolume).DefaultVersion = "stabel"
	if _, errOut, err := runFiles(t, o, namedPod("ws"), "-"); err != nil || strings.Contains(errOut, "Warning") {
		t.Errorf("no ConfigMaps known: err %v, stderr %q", err, errOut)
	}
}
