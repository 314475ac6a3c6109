package metrics

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

func TestObserveCountsExactly(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonConfigMapMissing, Injected: []mutate.Injection{
		{Component: "tilt-lib", Choice: mutate.Choice{ConfigMap: "tilt-lib", Version: "1.4.0", Source: mutate.SourceFallback, Exists: true}},
		{Component: "tilt-templates", Choice: mutate.Choice{ConfigMap: "tilt-templates-v2", Version: "", Source: mutate.SourceNamespace, Exists: true}},
	}})
	m.Observe(mutate.Result{Outcome: mutate.OutcomeSkipped, Reason: mutate.ReasonOptedOut})
	// The wire values, re-declared as the contract (pkg/decide owns the constants).
	m.Error(mutate.Reason("decode_error"))
	m.Skipped(mutate.Reason("not_pod_create"))

	want := `
# HELP tiltlib_admission_reviews_total Admission reviews handled, by result (injected, skipped, error) and the reason that best explains it. Dry-run requests are not counted.
# TYPE tiltlib_admission_reviews_total counter
tiltlib_admission_reviews_total{reason="configmap_missing",result="injected"} 1
tiltlib_admission_reviews_total{reason="decode_error",result="error"} 1
tiltlib_admission_reviews_total{reason="not_pod_create",result="skipped"} 1
tiltlib_admission_reviews_total{reason="opted_out",result="skipped"} 1
# HELP tiltlib_build_info Always 1; labels carry the webhook's build version and Go version.
# TYPE tiltlib_build_info gauge
tiltlib_build_info{goversion="` + runtime.Version() + `",version="v1.2.3"} 1
# HELP tiltlib_injections_total Components injected into workspace Pods, by the ConfigMap and semantic version mounted and which precedence level chose it. Dry-run requests are not counted.
# TYPE tiltlib_injections_total counter
tiltlib_injections_total{component="tilt-lib",configmap="tilt-lib",source="fallback",version="1.4.0"} 1
tiltlib_injections_total{component="tilt-templates",configmap="tilt-templates-v2",source="namespace",version=""} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestObserveBoundsConfigMapLabel: ConfigMaps that do not exist are named by developers' annotation
// values; each fresh value must not become a series of its own.
func TestObserveBoundsConfigMapLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	const reviews = 1000
	for i := range reviews {
		v := fmt.Sprintf("v%d", i)
		m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonConfigMapMissing, Injected: []mutate.Injection{
			{Component: "tilt-lib", Choice: mutate.Choice{ConfigMap: "tilt-lib-" + v, Label: v, Version: "9.9." + v, Source: mutate.SourcePod}},
			{Component: "tilt-templates", Choice: mutate.Choice{ConfigMap: "tilt-templates", Label: "default", Version: "1.0.0", Source: mutate.SourceDefault, Exists: true}},
		}})
	}
	if n := testutil.CollectAndCount(m.injections); n != 2 {
		t.Fatalf("%d reviews with fresh version values made %d injection series, want 2", reviews, n)
	}
	want := `
# HELP tiltlib_injections_total Components injected into workspace Pods, by the ConfigMap and semantic version mounted and which precedence level chose it. Dry-run requests are not counted.
# TYPE tiltlib_injections_total counter
tiltlib_injections_total{component="tilt-lib",configmap="missing",source="pod",version=""} 1000
tiltlib_injections_total{component="tilt-templates",configmap="tilt-templates",source="default",version="1.0.0"} 1000
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tiltlib_injections_total"); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefusesADuplicateRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg, "a"); err == nil || !strings.Contains(err.Error(), "registering metrics") {
		t.Fatalf("second New on one registry: err = %v", err)
	}
}
