package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

var (
	teamA = filepath.Join("..", "..", "examples", "team-a.yaml")
	teamB = filepath.Join("..", "..", "examples", "team-b.yaml")
)

// injectedRecords returns the injected annotation of every workspace Deployment in out, by name.
func injectedRecords(t *testing.T, out string) map[string]mutate.Record {
	t.Helper()
	recs := map[string]mutate.Record{}
	for _, doc := range strings.Split(out, "\n---\n") {
		i := strings.Index(doc, "tilt-lib.platform/injected: '")
		if i < 0 {
			continue
		}
		rest := doc[i+len("tilt-lib.platform/injected: '"):]
		var rec mutate.Record
		if err := json.Unmarshal([]byte(rest[:strings.IndexByte(rest, '\'')]), &rec); err != nil {
			t.Fatalf("injected annotation: %v\n%s", err, doc)
		}
		name := doc[strings.Index(doc, "\n  name: ")+len("\n  name: "):]
		recs[name[:strings.IndexByte(name, '\n')]] = rec
	}
	return recs
}

// Every -f is read; a stray argument is refused instead of silently ignored.
func TestInjectSeveralFilesNoStrayArguments(t *testing.T) {
	code, _, errOut := runCmd(t, "", "inject", "-f", teamA, teamB)
	if code == 0 || !strings.Contains(errOut, "unexpected argument(s) "+teamB) || !strings.Contains(errOut, "-f a.yaml -f b.yaml") {
		t.Errorf("stray argument: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runCmd(t, "", "inject", "-f", teamA, "-f", teamB)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := injectedRecords(t, out)
	if len(recs) != 2 || strings.Index(out, "coder-alice-dev") > strings.Index(out, "coder-bob-dev") {
		t.Errorf("want both workspaces, team-a's first; got %v", recs)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "teams", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{teamA: "teams/a.yaml", teamB: "teams/b/b.yaml"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, out, _ = runCmd(t, "", "inject", "-f", filepath.Join(dir, "teams"))
	_, outR, _ := runCmd(t, "", "inject", "-R", "-f", filepath.Join(dir, "teams"))
	if n, nR := len(injectedRecords(t, out)), len(injectedRecords(t, outR)); n != 1 || nR != 2 {
		t.Errorf("directory: %d workspaces, with -R %d; want 1 and 2", n, nR)
	}
}

// The GitOps file alone resolves as the cluster would: its Namespace pins v2 and its ConfigMaps
// say which versions exist (docs/design.md, `webhook inject`: Namespaces and ConfigMaps of the
// input; it once resolved "source: default").
func TestInjectUsesNamespaceAndConfigMapsOfTheInput(t *testing.T) {
	code, out, errOut := runCmd(t, "", "inject", "-f", teamB)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lib := injectedRecords(t, out)["coder-bob-dev"].Component(mutate.LibVolume)
	if lib == nil || lib.ConfigMap != "tilt-lib-v2" || lib.Version != "2.0.1" || lib.Source != "namespace" {
		t.Errorf("tilt-lib = %+v, want tilt-lib-v2 2.0.1 from the namespace", lib)
	}
	if !strings.Contains(errOut, "deployment/coder-bob-dev injected (tilt-lib-v2@2.0.1, tilt-templates@1.1.0)\n") ||
		!strings.Contains(errOut, "namespace/team-b skipped (not a workload)\n") {
		t.Errorf("summary on stderr:\n%s", errOut)
	}
	if strings.Contains(out, "injected (") {
		t.Errorf("the summary leaked into stdout")
	}
}

// --version-label reaches inject: the version recorded is the ConfigMap's label of that name.
func TestInjectVersionLabelPassedThrough(t *testing.T) {
	cms := write(t, "cms.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-lib, namespace: team-a, labels: {version: 1.0.0, release: 7.7.7}}\n")
	for label, want := range map[string]string{"version": "1.0.0", "release": "7.7.7"} {
		code, out, errOut := runCmd(t, pod, "inject", "-f", "-", "--configmaps-file", cms, "--version-label", label)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, `"configMap":"tilt-lib","version":"`+want+`"`) {
			t.Errorf("--version-label %s: want version %s in\n%s", label, want, out)
		}
	}
}

// --workspace-selector reaches inject: a Pod it does not select passes through untouched.
func TestInjectWorkspaceSelectorPassedThrough(t *testing.T) {
	code, out, errOut := runCmd(t, pod, "inject", "-f", "-", "--workspace-selector", "app=other")
	if code != 0 || out != pod || !strings.Contains(errOut, "pod/ws skipped (not a workspace (selector app=other))") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// --configmap-selector (and TILTLIB_CONFIGMAP_SELECTOR) reach inject: a ConfigMap without the
// marker is treated as absent, as serve's cache never holds it.
func TestInjectConfigMapSelectorPassedThrough(t *testing.T) {
	cms := write(t, "cms.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-lib, namespace: team-a, labels: {version: 1.0.0}}\n")
	code, out, errOut := runCmd(t, pod, "inject", "-f", "-", "--configmaps-file", cms)
	if code != 0 || !strings.Contains(out, `"configMap":"tilt-lib","version":"1.0.0"`) {
		t.Fatalf("without a selector: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, pod, "inject", "-f", "-", "--configmaps-file", cms, "--configmap-selector", "tilt-lib.platform/published=true")
	if code != 0 || strings.Contains(out, `"version":"1.0.0"`) || !strings.Contains(errOut, "--configmap-selector") {
		t.Errorf("with a selector the unmarked tilt-lib must be absent: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Setenv("TILTLIB_CONFIGMAP_SELECTOR", "a in (b")
	if code, _, errOut := runCmd(t, pod, "inject", "-f", "-"); code == 0 || !strings.Contains(errOut, "--configmap-selector") {
		t.Errorf("an unparseable TILTLIB_CONFIGMAP_SELECTOR: exit %d, stderr %s", code, errOut)
	}
}

// -o patch names the object of every patch, one JSON object per line.
func TestInjectPatchLinesNameTheirObject(t *testing.T) {
	code, out, errOut := runCmd(t, "", "inject", "-f", teamA, "-f", teamB, "-o", "patch")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (one per workspace):\n%s", len(lines), out)
	}
	for i, want := range []string{"team-a/coder-alice-dev", "team-b/coder-bob-dev"} {
		var l struct {
			Kind, Namespace, Name string
			Patch                 []map[string]any
		}
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatal(err)
		}
		if l.Kind != "Deployment" || l.Namespace+"/"+l.Name != want || len(l.Patch) == 0 {
			t.Errorf("line %d = %s %s/%s with %d ops, want Deployment %s", i+1, l.Kind, l.Namespace, l.Name, len(l.Patch), want)
		}
	}
}
