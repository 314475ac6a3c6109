package distributor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// Metrics of the distributor. Label values are bounded: the copy states and the action kinds.
type Metrics struct {
	Copies      *prometheus.GaugeVec
	Writes      *prometheus.CounterVec
	Errors      *prometheus.CounterVec
	LastSuccess prometheus.Gauge
	Passes      prometheus.Counter
}

// NewMetrics creates and registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Copies: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tiltlib_distribute_copies",
			Help: "Copies of the distributed ConfigMaps by state at the end of the last pass: in_sync, out_of_sync (to be written, or its source refused), conflict (an unmanaged ConfigMap has the name), orphaned."}, []string{"state"}),
		Writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiltlib_distribute_writes_total",
			Help: "Writes the distributor made, by kind: create, update, mark_orphaned, delete."}, []string{"kind"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiltlib_distribute_sync_errors_total",
			Help: "Failed API calls of the distributor, by kind: create, update, mark_orphaned, delete, list_pods, get."}, []string{"kind"}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tiltlib_distribute_last_success_timestamp_seconds",
			Help: "Unix time of the end of the last pass whose every write succeeded (0: none yet). Stale while this replica leads means copies are not being kept."}),
		Passes: prometheus.NewCounter(prometheus.CounterOpts{Name: "tiltlib_distribute_passes_total",
			Help: "Passes (plan and write) the distributor ran."}),
	}
	for _, c := range []prometheus.Collector{m.Copies, m.Writes, m.Errors, m.LastSuccess, m.Passes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, s := range distribute.States {
		m.Copies.WithLabelValues(s)
	}
	for _, k := range []distribute.Kind{distribute.Create, distribute.Update, distribute.MarkOrphaned, distribute.Delete} {
		m.Writes.WithLabelValues(string(k))
		m.Errors.WithLabelValues(string(k))
	}
	m.Errors.WithLabelValues(errListPods)
	m.Errors.WithLabelValues(errGet)
	return m, nil
}

const (
	errListPods = "list_pods"
	errGet      = "get"
)
