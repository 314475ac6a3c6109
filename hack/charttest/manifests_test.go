package charttest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestManifestsAreTheDefaultRender: manifests/ (the kustomize base) is the chart rendered with its
// default values (the header aside), and kustomize builds it with the Namespace first.
func TestManifestsAreTheDefaultRender(t *testing.T) {
	want, err := template(t)
	if err != nil {
		t.Fatal(err)
	}
	r := checkRendered(t, "manifests", "tilt-lib-injector.yaml", want)
	for _, k := range []string{"Namespace/" + releaseNS, deployKey, webhookKy} {
		if _, ok := r[k]; !ok {
			t.Errorf("kustomize build has no %s", k)
		}
	}
	for _, k := range []string{"ServiceMonitor/" + releaseName, "PrometheusRule/" + releaseName} {
		if _, ok := r[k]; ok {
			t.Errorf("the main base carries %s: it would fail where the prometheus-operator CRDs are absent", k)
		}
	}
}

// TestManifestsMonitoring: manifests/monitoring/ is the chart's monitoring objects, enabled, for the
// default release, and kustomize builds the three of them.
func TestManifestsMonitoring(t *testing.T) {
	want, err := template(t, "--show-only", "templates/monitoring.yaml",
		"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	r := checkRendered(t, "manifests/monitoring", "monitoring.yaml", want)
	for _, k := range []string{"ServiceMonitor/" + releaseName, "PrometheusRule/" + releaseName, "ConfigMap/" + releaseName + "-dashboard"} {
		if u, ok := r[k]; !ok || u.GetNamespace() != releaseNS {
			t.Errorf("kustomize build of manifests/monitoring: %s missing or not in %s", k, releaseNS)
		}
	}
}

// checkRendered compares dir/file (below the repository root) with want, ignoring the two comment
// lines hack/manifests.sh writes first, and returns what `kubectl kustomize dir` builds.
func checkRendered(t *testing.T, dir, file string, want []byte) rendered {
	t.Helper()
	got, err := os.ReadFile(filepath.Join("../..", dir, file))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if i := bytes.IndexByte(got, '\n'); i >= 0 && bytes.HasPrefix(got, []byte("#")) {
			got = got[i+1:]
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s/%s is stale: run `make manifests`", dir, file)
	}
	kubectl := filepath.Join(filepath.Dir(helm(t)), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", filepath.Join("../..", dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	return parse(t, out)
}
