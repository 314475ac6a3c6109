package main

import (
	"maps"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// TestReportVersionsRolloutPercent: every change of the document re-sets tiltlib_rollout_percent
// from the snapshot in force: a new rollout appears, a refused document keeps the last good
// targets, and a rollout deleted from the document loses its series.
func TestReportVersionsRolloutPercent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewVersions(reg)
	if err != nil {
		t.Fatal(err)
	}
	live := versions.NewLive(mutate.DefaultOptions())
	apply := func(doc string) {
		t.Helper()
		c := versions.Change{Outcome: versions.Served}
		c.Outcome, c.Err = live.Apply([]byte(doc), true)
		c.Serving = live.Load()
		reportVersions(c, m, nil, logr.Discard())
	}
	const two = `aliases: {stable: v2}
rollouts:
- {name: tilt-lib-v3, from: stable, to: v3, components: [tilt-lib], percent: "12.5"}
- {name: templates-v3, from: stable, to: v3, components: [tilt-templates], percent: "0"}
`
	want := func(state string, expected map[string]float64) {
		t.Helper()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range fams {
			if f.GetName() != metrics.RolloutPercent {
				continue
			}
			for _, s := range f.GetMetric() {
				got[s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
			}
		}
		if !maps.Equal(got, expected) {
			t.Errorf("%s: %s = %v, want %v", state, metrics.RolloutPercent, got, expected)
		}
	}
	apply(two)
	want("two rollouts", map[string]float64{"templates-v3": 0, "tilt-lib-v3": 12.5})
	apply("rollouts: [{name: x, from: nowhere, to: v3, percent: \"5\"}]\n")
	want("refused document", map[string]float64{"templates-v3": 0, "tilt-lib-v3": 12.5})
	apply(`aliases: {stable: v2}
rollouts:
- {name: tilt-lib-v3, from: stable, to: v3, components: [tilt-lib], percent: "50"}
`)
	want("templates-v3 deleted, tilt-lib-v3 raised", map[string]float64{"tilt-lib-v3": 50})
}
