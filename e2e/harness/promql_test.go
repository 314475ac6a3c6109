package harness

import (
	"slices"
	"testing"
)

func TestSubstituteVars(t *testing.T) {
	vars := map[string]string{"job": "tilt-lib-injector", "workspace_namespace": ".*", "__rate_interval": "1m"}
	got := SubstituteVars(`rate(x{job="$job", namespace=~"${workspace_namespace}"}[$__rate_interval]) + y{ns="$namespace"}`, vars)
	want := `rate(x{job="tilt-lib-injector", namespace=~".*"}[1m]) + y{ns="$namespace"}`
	if got != want {
		t.Errorf("SubstituteVars = %s\nwant %s", got, want)
	}
}

func TestVars(t *testing.T) {
	got := Vars(`label_replace(x{job="$job"}[${__rate_interval}], "dst", "$1", "src", "(.*)")`)
	if want := []string{"job", "__rate_interval"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %q, want %q", got, want)
	}
}
