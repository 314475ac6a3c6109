package charttest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "../../charts/tilt-lib-injector"
	releaseName = "tilt-lib-injector"
	releaseNS   = "tilt-system"
)

// helm is the helm binary of hack/tools.sh; the tests skip without it (plain `go test ./...` on a
// machine that never built the tools), and `make unit` always provides it.
func helm(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		t.Skip("KUBEBUILDER_ASSETS unset: run `make unit` (it builds helm with hack/tools.sh)")
	}
	p := filepath.Join(dir, "helm")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no helm in KUBEBUILDER_ASSETS: %v", err)
	}
	return p
}

// template runs `helm template` with the given extra arguments and returns stdout, or stderr as the error.
func template(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	return templateAs(t, releaseName, args...)
}

// operatorAPIs make helm render as for a cluster serving the prometheus-operator CRDs, which the
// ServiceMonitor and the PrometheusRule need (TestMonitoringNeedsOperatorCRDs renders without them).
var operatorAPIs = []string{"--api-versions", "monitoring.coreos.com/v1/ServiceMonitor", "--api-versions", "monitoring.coreos.com/v1/PrometheusRule"}

// templateAs is template for another release name.
func templateAs(t testing.TB, release string, args ...string) ([]byte, error) {
	t.Helper()
	return templateBare(t, release, append(append([]string(nil), operatorAPIs...), args...)...)
}

// templateBare is templateAs for a cluster that serves only the built-in APIs.
func templateBare(t testing.TB, release string, args ...string) ([]byte, error) {
	t.Helper()
	return runHelm(t, append([]string{"template", release, chartDir, "--namespace", releaseNS}, args...)...)
}

// runHelm runs helm with args and returns stdout, or stderr as the error.
func runHelm(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// helm reads no user config: keep the tests independent of the machine's ~/.config/helm.
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// rendered is one render, parsed: objects by "Kind/name".
type rendered map[string]*unstructured.Unstructured

func parse(t testing.TB, out []byte) rendered {
	t.Helper()
	r := rendered{}
	for _, doc := range strings.Split(string(out), "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		key := u.GetKind() + "/" + u.GetName()
		if _, dup := r[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		r[key] = u
	}
	return r
}

func renderCase(t testing.TB, name string) rendered {
	t.Helper()
	out, err := template(t, "-f", filepath.Join("testdata", name+".values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, out)
}

// get converts the object key (Kind/name) into a typed object, failing when it was not rendered.
func get[T any](t testing.TB, r rendered, key string) *T {
	t.Helper()
	u, ok := r[key]
	if !ok {
		t.Fatalf("%s not rendered; have %v", key, r.keys())
	}
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return &v
}

func (r rendered) keys() []string {
	var ks []string
	for k := range r {
		ks = append(ks, k)
	}
	return ks
}
