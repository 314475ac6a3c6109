package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEventDropsStartAtZeroAndCountByCause(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewEvents(reg, []string{"queue_full", "rate_limited"})
	if err != nil {
		t.Fatal(err)
	}
	m.Dropped("rate_limited")
	m.Dropped("rate_limited")
	want := `
# HELP tiltlib_events_dropped_total Findings not turned into Kubernetes Events, by cause (queue_full: the recorder fell behind; rate_limited: the same namespace, reason and component had an Event within the interval; over_budget: the cluster-wide Events budget of the interval was spent). The admission warning and tiltlib_admission_reviews_total still carry them.
# TYPE tiltlib_events_dropped_total counter
tiltlib_events_dropped_total{cause="queue_full"} 0
tiltlib_events_dropped_total{cause="rate_limited"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tiltlib_events_dropped_total"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEvents(reg, nil); err == nil {
		t.Fatal("a second registration on one registry succeeded")
	}
}
