package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestVersionsServingOneSeries: the serving gauge keeps one series, the hash in force (bounded:
// one per replica); valid and refused follow.
func TestVersionsServingOneSeries(t *testing.T) {
	m, err := NewVersions(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	m.Serving("none", true)
	m.Serving("0123456789abcdef", true)
	m.Refused()
	m.Serving("0123456789abcdef", false)
	if n := testutil.CollectAndCount(m.serving); n != 1 {
		t.Errorf("%d serving series, want 1", n)
	}
	if v := testutil.ToFloat64(m.serving.WithLabelValues("0123456789abcdef")); v != 1 {
		t.Errorf("serving = %g", v)
	}
	if v, r := testutil.ToFloat64(m.valid), testutil.ToFloat64(m.refused); v != 0 || r != 1 {
		t.Errorf("valid %g refused %g, want 0 and 1", v, r)
	}
}

// TestRolloutPercentFollowsTheDocument: each rollout's target in percent (hundredths kept), and a
// rollout gone from the next document loses its series.
func TestRolloutPercentFollowsTheDocument(t *testing.T) {
	m, err := NewVersions(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	m.Rollouts([]RolloutTarget{{"tilt-lib-v3", 1000}, {"templates-v2", 5}})
	if v := testutil.ToFloat64(m.percent.WithLabelValues("tilt-lib-v3")); v != 10 {
		t.Errorf("tilt-lib-v3 = %g, want 10", v)
	}
	if v := testutil.ToFloat64(m.percent.WithLabelValues("templates-v2")); v != 0.05 {
		t.Errorf("templates-v2 = %g, want 0.05", v)
	}
	m.Rollouts([]RolloutTarget{{"tilt-lib-v3", 0}})
	if n := testutil.CollectAndCount(m.percent); n != 1 {
		t.Errorf("%d series after templates-v2 was deleted, want 1", n)
	}
	if v := testutil.ToFloat64(m.percent.WithLabelValues("tilt-lib-v3")); v != 0 {
		t.Errorf("tilt-lib-v3 rolled back = %g, want 0", v)
	}
}
