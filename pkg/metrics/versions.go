package metrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Versions are the versions document's metrics (pkg/versions): which document each replica
// serves, whether the document on the API server is the one served, how many were refused, and
// the target percent of each rollout of the document served.
type Versions struct {
	mu      sync.Mutex
	serving *prometheus.GaugeVec
	valid   prometheus.Gauge
	refused prometheus.Counter
	percent *prometheus.GaugeVec
}

// Metric names of the versions document.
const (
	VersionsDocumentServing = "tiltlib_versions_document_serving"
	VersionsDocumentValid   = "tiltlib_versions_document_valid"
	VersionsDocumentRefused = "tiltlib_versions_document_refused_total"
	RolloutPercent          = "tiltlib_rollout_percent"
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
		percent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: RolloutPercent,
			Help: "Target percent (0 to 100) of each rollout of the versions document this replica serves, by rollout name: the share of workspaces a new Pod's bucket puts in the canary. A rollout deleted from the document has no series.",
		}, []string{"rollout"}),
	}
	for _, c := range []prometheus.Collector{m.serving, m.valid, m.refused, m.percent} {
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

// RolloutTarget is one rollout of the document served: its name and target in hundredths of a
// percent (versions.Percent.Basis).
type RolloutTarget struct {
	Name  string
	Basis int
}

// Rollouts sets tiltlib_rollout_percent to the rollouts of the document served, and only those: a
// rollout gone from the document loses its series. The names come from a validated document
// (DNS labels, at most 16 of them), so the label is bounded.
func (m *Versions) Rollouts(rs []RolloutTarget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.percent.Reset()
	for _, r := range rs {
		m.percent.WithLabelValues(r.Name).Set(float64(r.Basis) / 100)
	}
}

// Refused counts one refused document.
func (m *Versions) Refused() { m.refused.Inc() }
