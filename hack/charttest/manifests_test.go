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
	got, err := os.ReadFile("../../manifests/tilt-lib-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := template(t)
	if err != nil {
		t.Fatal(err)
	}
	// The two comment lines of hack/manifests.sh, then the render.
	for range 2 {
		if i := bytes.IndexByte(got, '\n'); i >= 0 && bytes.HasPrefix(got, []byte("#")) {
			got = got[i+1:]
		}
	}
	if !bytes.Equal(got, want) {
		t.Error("manifests/tilt-lib-injector.yaml is stale: run `make manifests`")
	}
	kubectl := filepath.Join(filepath.Dir(helm(t)), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", "../../manifests").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize manifests: %v\n%s", err, out)
	}
	r := parse(t, out)
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
	got, err := os.ReadFile("../../manifests/monitoring/monitoring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := template(t, "--show-only", "templates/monitoring.yaml",
		"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if i := bytes.IndexByte(got, '\n'); i >= 0 && bytes.HasPrefix(got, []byte("#")) {
			got = got[i+1:]
		}
	}
	if !bytes.Equal(got, want) {
		t.Error("manifests/monitoring/monitoring.yaml is stale: run `make manifests`")
	}
	kubectl := filepath.Join(filepath.Dir(helm(t)), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", "../../manifests/monitoring").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize manifests/monitoring: %v\n%s", err, out)
	}
	r := parse(t, out)
	for _, k := range []string{"ServiceMonitor/" + releaseName, "PrometheusRule/" + releaseName, "ConfigMap/" + releaseName + "-dashboard"} {
		if u, ok := r[k]; !ok || u.GetNamespace() != releaseNS {
			t.Errorf("kustomize build of manifests/monitoring: %s missing or not in %s", k, releaseNS)
		}
	}
}
