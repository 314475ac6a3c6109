package charttest

import (
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// TestBodyBudgetFollowsTheMemoryLimit: --max-body-bytes-in-flight is the value when set, else a
// sixteenth of the memory limit (never below the binary's minimum), else the binary's default.
func TestBodyBudgetFollowsTheMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want int64
	}{
		{"default 256Mi", nil, 16 << 20},
		{"1Gi", []string{"--set", "resources.limits.memory=1Gi"}, 64 << 20},
		{"in bytes", []string{"--set-string", "resources.limits.memory=536870912"}, 32 << 20},
		{"64Mi: the binary's minimum", []string{"--set", "resources.limits.memory=64Mi"}, config.MinMaxBodyBytesInFlight},
		{"no memory limit: the binary's default", []string{"--set", "resources.limits.memory=null"}, config.Default().MaxBodyBytesInFlight},
		{"set", []string{"--set", "maxBodyBytesInFlight=4294967296"}, 4 << 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := template(t, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := serveConfig(t, container(t, parse(t, out)))
			if cfg.MaxBodyBytesInFlight != c.want {
				t.Errorf("--max-body-bytes-in-flight %d, want %d", cfg.MaxBodyBytesInFlight, c.want)
			}
			cfg.ServiceNamespace = releaseNS
			if err := cfg.Validate(); err != nil {
				t.Errorf("the binary would refuse it: %v", err)
			}
		})
	}
}
