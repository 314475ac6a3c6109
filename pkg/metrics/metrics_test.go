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
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tiltlib_admission_reviews_total", "tiltlib_build_info", "tiltlib_injections_total"); err != nil {
		t.Fatal(err)
	}
}

// TestObserveCountsEnvbox: one count per review with an envbox container, by what was done; the
// three series exist from the start; a review without envbox counts nothing.
func TestObserveCountsEnvbox(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, "v1")
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonNone, Envbox: mutate.EnvboxAdded})
	m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonEnvboxMountsUntouched, Envbox: mutate.EnvboxUntouched})
	m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonNone, Envbox: mutate.EnvboxAdded})
	m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonNone})
	want := `
# HELP tiltlib_envbox_mounts_total Reviews of Pods with an envbox container carrying a component, by what was done about CODER_MOUNTS: added (listed by this patch), present (already listed), untouched (left alone: envbox_mounts_untouched). Dry-run requests are not counted.
# TYPE tiltlib_envbox_mounts_total counter
tiltlib_envbox_mounts_total{result="added"} 2
tiltlib_envbox_mounts_total{result="present"} 0
tiltlib_envbox_mounts_total{result="untouched"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tiltlib_envbox_mounts_total"); err != nil {
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

// existing is a review that mounted the existing ConfigMap tilt-lib-<v>, version label
// "<v>-label" (a tenant's own, say), and nothing else.
func existing(v string) mutate.Result {
	return mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonNone, Injected: []mutate.Injection{
		{Component: "tilt-lib", Choice: mutate.Choice{ConfigMap: "tilt-lib-" + v, Label: v, Version: v + "-label", Source: mutate.SourcePod, Exists: true}},
	}}
}

// TestInjectionsCapAtTheBound: existing ConfigMaps are a tenant's own too (no --configmap-selector,
// or a forged marker), so the distinct (configmap, version) pairs with a series of their own are
// capped, at the default cap and a configured one, tested at cap-1, cap and cap+1 pairs: the
// first pairs seen keep their series (and stay exact after the cap is reached), every later one
// is configmap="other", version="".
func TestInjectionsCapAtTheBound(t *testing.T) {
	for _, limit := range []int{0, 1, 7} { // 0: the default
		capped := limit
		if capped == 0 {
			capped = DefaultMaxConfigMapSeries
		}
		for _, pairs := range []int{capped - 1, capped, capped + 1} {
			t.Run(fmt.Sprintf("cap %d, %d pairs", capped, pairs), func(t *testing.T) {
				reg := prometheus.NewRegistry()
				m, err := NewWithOptions(reg, "t", Options{MaxConfigMapSeries: limit})
				if err != nil {
					t.Fatal(err)
				}
				for i := range pairs {
					m.Observe(existing(fmt.Sprintf("v%d", i)))
				}
				kept := min(pairs, capped)
				wantSeries := kept
				if pairs > capped {
					wantSeries++ // other
				}
				if n := testutil.CollectAndCount(m.injections); n != wantSeries {
					t.Fatalf("%d pairs under a cap of %d made %d series, want %d", pairs, capped, n, wantSeries)
				}
				other := m.injections.WithLabelValues("tilt-lib", OtherConfigMap, "", string(mutate.SourcePod))
				if got, want := testutil.ToFloat64(other), float64(pairs-kept); got != want {
					t.Errorf("other = %g, want %g", got, want)
				}
				if pairs <= 1 {
					return
				}
				// A pair kept before the cap was reached is still counted exactly after it.
				m.Observe(existing("v0"))
				if got := testutil.ToFloat64(m.injections.WithLabelValues("tilt-lib", "tilt-lib-v0", "v0-label", string(mutate.SourcePod))); got != 2 {
					t.Errorf("tilt-lib-v0 = %g after a second review, want 2", got)
				}
			})
		}
	}
}

// TestInjectionsCapIsPerPairNotPerSource: one pair reached by several sources is one pair.
func TestInjectionsCapIsPerPairNotPerSource(t *testing.T) {
	m, err := NewWithOptions(prometheus.NewRegistry(), "t", Options{MaxConfigMapSeries: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []mutate.Source{mutate.SourcePod, mutate.SourceNamespace, mutate.SourceDefault, mutate.SourceFallback} {
		m.Observe(mutate.Result{Outcome: mutate.OutcomeInjected, Reason: mutate.ReasonNone, Injected: []mutate.Injection{
			{Component: "tilt-lib", Choice: mutate.Choice{ConfigMap: "tilt-lib", Version: "1.4.0", Source: src, Exists: true}},
		}})
	}
	if n := testutil.CollectAndCount(m.injections); n != 4 {
		t.Fatalf("one pair from four sources made %d series, want 4 (none of them other)", n)
	}
}
