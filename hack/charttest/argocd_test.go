package charttest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestArgoCDApplication: the example Application installs this chart with values the chart accepts,
// and ignores exactly the caBundle of the registration that chart renders under its release name.
func TestArgoCDApplication(t *testing.T) {
	b, err := os.ReadFile("../../examples/argocd/tilt-lib-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var app unstructured.Unstructured
	if err := yaml.Unmarshal(b, &app.Object); err != nil {
		t.Fatal(err)
	}
	path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	release, _, _ := unstructured.NestedString(app.Object, "spec", "source", "helm", "releaseName")
	ns, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	values, _, _ := unstructured.NestedMap(app.Object, "spec", "source", "helm", "valuesObject")
	if app.GetKind() != "Application" || path != "charts/tilt-lib-injector" || release != releaseName || ns != releaseNS {
		t.Fatalf("Application %s: path %q release %q namespace %q", app.GetKind(), path, release, ns)
	}
	vb, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, vb, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := template(t, "-f", vf)
	if err != nil {
		t.Fatalf("the chart refuses the Application's values: %v", err)
	}
	mwc := parse(t, out)[webhookKy]
	if mwc == nil {
		t.Fatal("no MutatingWebhookConfiguration rendered")
	}
	diffs, _, _ := unstructured.NestedSlice(app.Object, "spec", "ignoreDifferences")
	if len(diffs) != 1 {
		t.Fatalf("ignoreDifferences %v: want the caBundle only", diffs)
	}
	d := diffs[0].(map[string]any)
	exprs, _, _ := unstructured.NestedStringSlice(d, "jqPathExpressions")
	if d["kind"] != "MutatingWebhookConfiguration" || d["group"] != "admissionregistration.k8s.io" || d["name"] != mwc.GetName() ||
		!slices.Equal(exprs, []string{".webhooks[].clientConfig.caBundle"}) {
		t.Errorf("ignoreDifferences %v: want the caBundle of %s", d, mwc.GetName())
	}
}
