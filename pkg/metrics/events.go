package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Events counts the Events pkg/events did not record. It implements events.DropCounter.
type Events struct {
	dropped *prometheus.CounterVec
}

// NewEvents creates tiltlib_events_dropped_total on reg, with a zero series for each of causes
// (events.Causes), so rate() works before the first drop.
func NewEvents(reg prometheus.Registerer, causes []string) (*Events, error) {
	m := &Events{dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tiltlib_events_dropped_total",
		Help: "Findings not turned into Kubernetes Events, by cause (queue_full: the recorder fell behind; rate_limited: the same namespace, reason and component had an Event within the interval; over_budget: the cluster-wide Events budget of the interval was spent). The admission warning and tiltlib_admission_reviews_total still carry them.",
	}, []string{"cause"})}
	for _, c := range causes {
		m.dropped.WithLabelValues(c)
	}
	if err := reg.Register(m.dropped); err != nil {
		return nil, fmt.Errorf("registering event metrics: %w", err)
	}
	return m, nil
}

// Dropped counts one dropped Event. cause comes from pkg/events' fixed set.
func (m *Events) Dropped(cause string) {
	m.dropped.WithLabelValues(cause).Inc()
}
