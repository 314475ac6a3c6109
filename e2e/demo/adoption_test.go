package main

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestAdoption: the gauge's series, as scraped, become the dashboard's lines: summed over
// namespaces per ConfigMap and version, real ConfigMaps first (most Pods first), then the
// not-mounted ones with what they mean (each group by Pods, most first); zero series left out; the stragglers by namespace; exact text.
func TestAdoption(t *testing.T) {
	scrape := `# TYPE tiltlib_workspace_pods gauge
tiltlib_workspace_pods{namespace="team-a",component="tilt-lib",configmap="tilt-lib",version="1.4.0"} 1
tiltlib_workspace_pods{namespace="team-b",component="tilt-lib",configmap="tilt-lib-v2",version="2.0.1"} 2
tiltlib_workspace_pods{namespace="team-c",component="tilt-lib",configmap="tilt-lib-v2",version="2.0.1"} 1
tiltlib_workspace_pods{namespace="team-a",component="tilt-lib",configmap="none",version=""} 1
tiltlib_workspace_pods{namespace="team-c",component="tilt-lib",configmap="none",version=""} 2
tiltlib_workspace_pods{namespace="team-b",component="tilt-lib",configmap="tilt-lib-v3",version="3.0.0"} 0
tiltlib_workspace_pods{namespace="team-a",component="tilt-templates",configmap="tilt-templates",version="1.1.0"} 4
tiltlib_workspace_pods{namespace="team-b",component="tilt-templates",configmap="skipped",version=""} 1
tiltlib_workspace_pods{namespace="team-c",component="tilt-templates",configmap="missing",version=""} 1
tiltlib_workspace_pods{namespace="team-c",component="tilt-templates",configmap="none",version=""} 2
`
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrape))
	if err != nil {
		t.Fatal(err)
	}
	got := renderAdoption(adoptionOf(podsSamples(families)), "tilt-lib-injector")
	want := `  tilt-lib: 7 workspace Pods
    tilt-lib-v2  2.0.1  3   43%  #########...........
    tilt-lib     1.4.0  1   14%  ###.................
    none         -      3   43%  #########...........  <- not injected
    PromQL: sum by (configmap, version) (max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="tilt-lib-injector", component="tilt-lib", namespace=~".*"}))
  tilt-templates: 8 workspace Pods
    tilt-templates  1.1.0  4   50%  ##########..........
    none            -      2   25%  #####...............  <- not injected
    missing         -      1   13%  ###.................  <- its ConfigMap is gone
    skipped         -      1   13%  ###.................  <- reviewed, nothing mounted
    PromQL: sum by (configmap, version) (max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="tilt-lib-injector", component="tilt-templates", namespace=~".*"}))
  Stragglers: 3 workspace Pod(s) never injected (configmap="none"): 1 in team-a, 2 in team-c.
    They get the mounts when they are recreated; alert TiltLibWorkspacesNotInjected fires after 15m.
  What each Pod mounts, from its labels (blank: never injected; requested-*: what it asked for):
    kubectl get pods -A -l app.kubernetes.io/name=coder-workspace -L tilt-lib.platform/version,tilt-lib.platform/templates-version,tilt-lib.platform/requested-version,tilt-lib.platform/requested-templates-version
`
	if got != want {
		t.Errorf("renderAdoption:\n%s\nwant:\n%s", got, want)
	}
}

func TestAdoptionNoStragglers(t *testing.T) {
	got := renderAdoption(adoptionOf([]podsSample{{Namespace: "a", Component: "tilt-lib", ConfigMap: "tilt-lib", Version: "1.4.0", Pods: 1}}), "j")
	if !strings.Contains(got, "  tilt-lib: 1 workspace Pods\n    tilt-lib  1.4.0  1  100%  ####################\n") ||
		!strings.Contains(got, "  tilt-templates: 0 workspace Pods\n") ||
		!strings.Contains(got, "Stragglers: none, every workspace Pod was injected.") {
		t.Errorf("renderAdoption:\n%s", got)
	}
}
