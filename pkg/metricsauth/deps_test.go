package metricsauth

import (
	"os/exec"
	"strings"
	"testing"
)

// testOnly are module paths the differential tests import as oracles and the webhook binary
// must never link: controller-runtime's metrics filter (e2e/metrics_auth_oracle_test.go) brings
// k8s.io/apiserver, +30 MB of binary and +20 MB of RSS per replica — why this package exists.
var testOnly = []string{"k8s.io/apiserver"}

// TestWebhookLinksNoAPIServer: `go list -deps ./cmd/webhook` names no package of testOnly.
func TestWebhookLinksNoAPIServer(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first on PATH
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "github.com/platform-tools/tilt-lib-injector/cmd/webhook")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/webhook: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps gave %d packages; the check would prove nothing", len(deps))
	}
	for _, mod := range testOnly {
		var linked []string
		for _, dep := range deps {
			if dep == mod || strings.HasPrefix(dep, mod+"/") {
				linked = append(linked, dep)
			}
		}
		if len(linked) > 0 {
			t.Errorf("cmd/webhook links %d packages of %s, only tests may import it: %s …", len(linked), mod, strings.Join(linked[:min(3, len(linked))], ", "))
		}
	}
}
