package inject

import (
	"strings"
	"testing"
)

// The golden cases about what the input itself tells: the workspace selector, and the Namespaces
// and ConfigMaps it holds.
func init() {
	goldenCases["selector"] = func(t *testing.T, g golden) {
		in := splitYAML(t, string(inputFile(t, "testdata/selector")))
		out := splitYAML(t, g.yaml)
		if len(out) != 3 {
			t.Fatalf("got %d documents, want 3", len(out))
		}
		// The nginx Deployment would get the mounts in its first container without the selector.
		for _, i := range []int{0, 1} {
			if out[i] != in[i] {
				t.Errorf("document %d not passed through byte for byte:\n%s", i+1, out[i])
			}
		}
		if !strings.Contains(out[2], "mountPath: /apps/tilt-lib") {
			t.Errorf("the workspace was not injected:\n%s", out[2])
		}
		ls := lines(g.patch)
		if len(ls) != 2 || parsePatchLine(t, ls[0]).Name != "nginx" || string(patchOf(t, ls[0])) != "[]" {
			t.Errorf("-o patch = %q, want an empty patch for nginx first", ls)
		}
		wantNoWarnings(t, g)
		wantSummary(t, g,
			"deployment/nginx skipped (not a workspace (selector app.kubernetes.io/name=coder-workspace))",
			"service/nginx skipped (not a workload)",
			"deployment/coder-kim-dev injected (tilt-lib, tilt-templates)")
	}

	// Without flags, the Namespace and ConfigMaps of the input are what the cluster would have.
	goldenCases["input-namespaces"] = func(t *testing.T, g golden) {
		out := splitYAML(t, g.yaml)
		if len(out) != 5 {
			t.Fatalf("got %d documents, want 5", len(out))
		}
		bob := injected(t, decodePod(t, out[3]))
		if bob.Lib.ConfigMap != "tilt-lib-v2" || bob.Lib.Version != "2.0.1" || bob.Lib.Source != "namespace" {
			t.Errorf("team-b tilt-lib = %+v, want tilt-lib-v2 2.0.1 from the namespace in the input", bob.Lib)
		}
		// team-b's ConfigMaps in the input are all team-b has: no tilt-templates.
		wantWarning(t, g, "Warning: pod/coder-bob-ws: tilt-lib-injector: ", `ConfigMap "tilt-templates"`, `"team-b"`)
		// Nothing is known of team-c's ConfigMaps: they all exist, no warning about them.
		cleo := injected(t, decodePod(t, out[4]))
		if cleo.Lib.ConfigMap != "tilt-lib" || cleo.Lib.Source != "default" {
			t.Errorf("team-c tilt-lib = %+v, want the default", cleo.Lib)
		}
		wantWarning(t, g, "Warning: pod/coder-cleo-ws: tilt-lib-injector: ", `namespace "team-c"`, "(reason: namespace_unknown)")
		if n := strings.Count(g.warnings, "coder-cleo-ws: "); n != 1 {
			t.Errorf("%d warnings about the team-c Pod, want only namespace_unknown:\n%s", n, g.warnings)
		}
		wantSummary(t, g, "namespace/team-b skipped (not a workload)", "configmap/tilt-lib skipped (not a workload)",
			"pod/coder-bob-ws injected (tilt-lib-v2@2.0.1, tilt-templates)")
	}

	// Several Namespaces in --namespace-file, each object gets its own; the file beats the input.
	goldenCases["namespaces-file"] = func(t *testing.T, g golden) {
		out := splitYAML(t, g.yaml)
		if len(out) != 3 {
			t.Fatalf("got %d documents, want 3", len(out))
		}
		amy, ben := injected(t, decodePod(t, out[1])), injected(t, decodePod(t, out[2]))
		if amy.Templates.ConfigMap != "tilt-templates-v3" || amy.Templates.Source != "namespace" || amy.Lib.ConfigMap != "tilt-lib" {
			t.Errorf("team-a = %+v, want team-a's templates-version v3 only", amy)
		}
		if ben.Lib.ConfigMap != "tilt-lib-v2" || ben.Lib.Source != "namespace" || ben.Templates.ConfigMap != "tilt-templates" {
			t.Errorf("team-b = %+v, want the file's v2, not the input's v1", ben)
		}
		wantWarning(t, g, "Warning: tilt-lib-injector: ", `namespace "team-b"`, "namespace.yaml", "input document 1",
			"(reason: namespace_overridden)")
	}
}
