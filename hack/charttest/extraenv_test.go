package charttest

import (
	"slices"
	"testing"
)

// TestExtraEnv: extraEnv adds its variables, values and valueFrom alike, after the chart's own
// (POD_NAMESPACE, GOMEMLIMIT), which stay; without it the container has only the chart's.
func TestExtraEnv(t *testing.T) {
	out, err := template(t, "--set-json", `extraEnv=[{"name":"KUBERNETES_SERVICE_HOST","value":"10.213.7.1"},`+
		`{"name":"HTTPS_PROXY","valueFrom":{"secretKeyRef":{"name":"proxy","key":"url"}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	env := container(t, parse(t, out)).Env
	names := make([]string, len(env))
	for i, e := range env {
		names[i] = e.Name
	}
	if want := []string{"POD_NAMESPACE", "GOMEMLIMIT", "KUBERNETES_SERVICE_HOST", "HTTPS_PROXY"}; !slices.Equal(names, want) {
		t.Fatalf("env %q, want %q", names, want)
	}
	if env[2].Value != "10.213.7.1" {
		t.Errorf("KUBERNETES_SERVICE_HOST = %q", env[2].Value)
	}
	if ref := env[3].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "proxy" || ref.SecretKeyRef.Key != "url" {
		t.Errorf("HTTPS_PROXY valueFrom %+v, want secretKeyRef proxy/url", ref)
	}

	out, err = template(t)
	if err != nil {
		t.Fatal(err)
	}
	var plain []string
	for _, e := range container(t, parse(t, out)).Env {
		plain = append(plain, e.Name)
	}
	if !slices.Equal(plain, []string{"POD_NAMESPACE", "GOMEMLIMIT"}) {
		t.Errorf("default env %q, want the chart's own only", plain)
	}
}
