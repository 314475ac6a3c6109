package metrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Versions are the versions document's metrics (pkg/versions): which document each replica
// serves, whether the document on the API server is the one served, and how many were refused.
type Versions struct {
	mu      sync.Mutex
	serving *prometheus.GaugeVec
	valid   prometheus.Gauge
	refused prometheus.Counter
}

// Metric names of the versions document.
const (
	VersionsDocumentServing = "tiltlib_versions_document_serving"
	VersionsDocumentValid   = "tiltlib_versions_document_valid"
	VersionsDocumentRefused = "tiltlib_versions_document_refused_total"
)

// NewVersions registers the versions document's metrics on reg.
func NewVersions(reg prometheus.Registerer) (*Versions, error) {
	m := &Versions{
		serving: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: VersionsDocumentServing,
			Help: "1 for the versions document this replica serves, by hash (the first 16 hex digits of its SHA-256, or none when no document is present): one series per replica, so replicas that disagree show as two hashes.",
		}, []string{"hash"}),
		valid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: VersionsDocumentValid,
			Help: "1 when the versions document's latest state (present or absent) is the one served; 0 while an invalid document is refused (the last good one is served; a replica that never had a good one is not ready).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: VersionsDocumentRefused,
			Help: "Versions documents refused as invalid (YAML error, unknown field, a broken rule or bound); each also records a Warning Event on the ConfigMap listing every error.",
		}),
	}
	for _, c := range []prometheus.Collector{m.serving, m.valid, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering versions document metrics: %w", err)
		}
	}
	return m, nil
}

// Serving records the document in force (hash) and whether the latest state was valid.
func (m *Versions) Serving(hash string, valid bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serving.Reset()
	m.serving.WithLabelValues(hash).Set(1)
	if valid {
		m.valid.Set(1)
	} else {
		m.valid.Set(0)
	}
}

// Refused counts one refused document.
func (m *Versions) Refused() { m.refused.Inc() }
