package inject

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// The platform's marker in these tests.
const marker = "tilt-lib.platform/published=true"

// configMapDoc is a ConfigMap in team-a with version label version, marked as published or not.
func configMapDoc(name, version string, published bool) string {
	l := "version: " + version
	if published {
		l += ", tilt-lib.platform/published: \"true\""
	}
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: team-a, labels: {" + l + "}}\n---\n"
}

// pinnedPod is a workspace Pod in team-a pinned to v2.
const pinnedPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: ws, namespace: team-a, labels: {app.kubernetes.io/name: coder-workspace}, " +
	"annotations: {tilt-lib.platform/version: v2}}\nspec: {containers: [{name: dev, image: x}]}\n"

// TestConfigMapSelectorOffline: with --configmap-selector, a ConfigMap without the marker does
// not exist for inject, whether it comes from --configmaps-file or from the input, as it does not
// reach serve's cache: the Pod pinned to the tenant's unmarked tilt-lib-v2 falls back to the
// published tilt-lib with configmap_missing, as the server would answer. Without the selector,
// tilt-lib-v2 is mounted.
func TestConfigMapSelectorOffline(t *testing.T) {
	cms := configMapDoc("tilt-lib", "1.4.0", true) + configMapDoc("tilt-lib-v2", "tenant's own", false) +
		configMapDoc("tilt-templates", "1.1.0", true)
	dir := writeFiles(t, map[string]string{"cms.yaml": cms})
	for _, fromInput := range []bool{false, true} {
		for _, selector := range []string{"", marker} {
			o := DefaultOptions()
			o.ConfigMapSelector = selector
			in := pinnedPod
			if fromInput {
				in = cms + pinnedPod
			} else {
				o.ConfigMapsFile = filepath.Join(dir, "cms.yaml")
			}
			_, errOut, err := runFiles(t, o, in, "-")
			if err != nil {
				t.Fatal(err)
			}
			want, missing := "pod/ws injected (tilt-lib-v2@tenant's own, tilt-templates@1.1.0)", false
			if selector != "" {
				want, missing = "pod/ws injected (tilt-lib@1.4.0, tilt-templates@1.1.0)", true
			}
			if !strings.Contains(errOut, want) {
				t.Errorf("input %v, selector %q: stderr\n%s\nwant %q", fromInput, selector, errOut, want)
			}
			if got := strings.Contains(errOut, `ConfigMap "tilt-lib-v2"`) && strings.Contains(errOut, "(reason: configmap_missing)"); got != missing {
				t.Errorf("input %v, selector %q: configmap_missing for tilt-lib-v2 %v, want %v:\n%s", fromInput, selector, got, missing, errOut)
			}
		}
	}
}

// TestConfigMapSelectorOfflineMissingTargets: when nothing in the ConfigMaps carries the marker,
// the defaults are missing everywhere, and the warning (serve's wording) names the selector: after
// turning it on, an unmarked ConfigMap is the likely cause.
func TestConfigMapSelectorOfflineMissingTargets(t *testing.T) {
	dir := writeFiles(t, map[string]string{"cms.yaml": configMapDoc("tilt-lib", "1.4.0", false) + configMapDoc("tilt-templates", "1.1.0", false)})
	o := DefaultOptions()
	o.ConfigMapSelector = marker
	o.ConfigMapsFile = filepath.Join(dir, "cms.yaml")
	_, errOut, err := runFiles(t, o, namedPod("ws"), "-")
	if err != nil {
		t.Fatal(err)
	}
	want := `no ConfigMap "tilt-lib" in any namespace of ` + o.ConfigMapsFile + ` among the ConfigMaps matching --configmap-selector "` + marker + `"`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr\n%s\nwant %q", errOut, want)
	}
}

func TestConfigMapSelectorInvalid(t *testing.T) {
	o := DefaultOptions()
	o.ConfigMapSelector = "a in (b"
	if _, _, err := runFiles(t, o, namedPod("ws"), "-"); !errors.Is(err, ErrConfigMapSelector) || !strings.Contains(err.Error(), `"a in (b"`) {
		t.Errorf("err = %v, want ErrConfigMapSelector naming the selector", err)
	}
}
