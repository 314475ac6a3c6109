package charttest

import (
	"maps"
	"strings"
	"testing"
)

// Two distributor replicas per cluster, as pkg/distributor exports them: every series exists from
// the start (a standby's copies and errors are 0, its last success 0) and only the leader's pass
// sets them. In cluster east, a leads and b stands by. In cluster west leadership is moving: a (the
// old leader, last pass at 60 s) is still scraped next to b (the new one, first pass at 180 s) with
// the same copies. Errors: 0.1/s of update errors by east's leader; in west a made 0.05/s of
// list_pods and 0.25/s of create errors before it stepped down, and b 0.5/s of create errors since. Another release's
// distributor must not count.
const distributionSeries = `
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="a", state="in_sync"}', values: '12x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="a", state="out_of_sync"}', values: '2x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="a", state="conflict"}', values: '1x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="a", state="orphaned"}', values: '3x10'}
- {series: 'tiltlib_distribute_last_success_timestamp_seconds{job="tilt-lib-injector-distribute", cluster="east", instance="a"}', values: '240x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="east", instance="a", kind="update"}', values: '0+6x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="east", instance="a", kind="create"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="b", state="in_sync"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="b", state="out_of_sync"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="b", state="conflict"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="east", instance="b", state="orphaned"}', values: '0x10'}
- {series: 'tiltlib_distribute_last_success_timestamp_seconds{job="tilt-lib-injector-distribute", cluster="east", instance="b"}', values: '0x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="east", instance="b", kind="update"}', values: '0x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="east", instance="b", kind="create"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="a", state="in_sync"}', values: '7x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="a", state="out_of_sync"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="a", state="conflict"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="a", state="orphaned"}', values: '1x10'}
- {series: 'tiltlib_distribute_last_success_timestamp_seconds{job="tilt-lib-injector-distribute", cluster="west", instance="a"}', values: '60x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="west", instance="a", kind="list_pods"}', values: '0+3x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="west", instance="a", kind="create"}', values: '0+15x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="b", state="in_sync"}', values: '7x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="b", state="out_of_sync"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="b", state="conflict"}', values: '0x10'}
- {series: 'tiltlib_distribute_copies{job="tilt-lib-injector-distribute", cluster="west", instance="b", state="orphaned"}', values: '1x10'}
- {series: 'tiltlib_distribute_last_success_timestamp_seconds{job="tilt-lib-injector-distribute", cluster="west", instance="b"}', values: '180x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="tilt-lib-injector-distribute", cluster="west", instance="b", kind="create"}', values: '0+30x10'}
- {series: 'tiltlib_distribute_copies{job="someone-else-distribute", cluster="east", instance="c", state="in_sync"}', values: '500x10'}
- {series: 'tiltlib_distribute_last_success_timestamp_seconds{job="someone-else-distribute", cluster="east", instance="c"}', values: '299x10'}
- {series: 'tiltlib_distribute_sync_errors_total{job="someone-else-distribute", cluster="east", instance="c", kind="update"}', values: '0+60x10'}
`

// TestDashboardDistributionNumbers: promtool evaluates the Distribution row (at 300 s): each cluster
// shows its leader's copies once whether the other replica stands by (0) or is the old leader still
// scraped, the errors of every replica, and per cluster the time since the newest successful pass;
// All adds the clusters' copies. The same scenario without a cluster label (one Prometheus per
// cluster) gives east's numbers alone.
func TestDashboardDistributionNumbers(t *testing.T) {
	series := adoptionInput(t, distributionSeries, "")
	east := map[string]string{}
	maps.Copy(east, dashboardVars)
	east["cluster"] = "east"
	evalPanels(t, series, east, map[string]map[string]float64{
		"Distribution: copies by state":            {`{state="in_sync"}`: 12, `{state="out_of_sync"}`: 2, `{state="conflict"}`: 1, `{state="orphaned"}`: 3},
		"Distribution: sync errors":                {`{kind="update"}`: 0.1, `{kind="create"}`: 0},
		"Distribution: since last successful pass": {`{cluster="east"}`: 60},
	})
	evalPanels(t, series, dashboardVars, map[string]map[string]float64{
		"Distribution: copies by state":            {`{state="in_sync"}`: 19, `{state="out_of_sync"}`: 2, `{state="conflict"}`: 1, `{state="orphaned"}`: 4},
		"Distribution: sync errors":                {`{kind="update"}`: 0.1, `{kind="create"}`: 0.75, `{kind="list_pods"}`: 0.05},
		"Distribution: since last successful pass": {`{cluster="east"}`: 60, `{cluster="west"}`: 120},
	})
	unlabelled := adoptionInput(t, strings.ReplaceAll(distributionSeries, `cluster="east", `, ""), "")
	var single []any
	for _, s := range unlabelled {
		if !strings.Contains(s.(map[string]any)["series"].(string), `cluster="west"`) {
			single = append(single, s)
		}
	}
	evalPanels(t, single, dashboardVars, map[string]map[string]float64{
		"Distribution: copies by state":            {`{state="in_sync"}`: 12, `{state="out_of_sync"}`: 2, `{state="conflict"}`: 1, `{state="orphaned"}`: 3},
		"Distribution: since last successful pass": {`{}`: 60},
	})
}
