package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// NamespaceReads counts the reads of a Namespace the cache missed (pkg/lookup's read-through).
// It implements lookup.ReadCounter.
type NamespaceReads struct {
	reads *prometheus.CounterVec
}

// NewNamespaceReads creates tiltlib_namespace_reads_total on reg, with a zero series for each of
// results (lookup.ReadResults), so rate() works before the first miss.
func NewNamespaceReads(reg prometheus.Registerer, results []string) (*NamespaceReads, error) {
	m := &NamespaceReads{reads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tiltlib_namespace_reads_total",
		Help: "Namespaces read from the API server because a review named one the cache did not hold yet (the one API call on the admission path), by result: found (stored for the next review), not_found, error, timeout (error and timeout answer the review with a failed call, reason cache_error).",
	}, []string{"result"})}
	for _, r := range results {
		m.reads.WithLabelValues(r)
	}
	if err := reg.Register(m.reads); err != nil {
		return nil, fmt.Errorf("registering namespace read metrics: %w", err)
	}
	return m, nil
}

// Read counts one read. result comes from pkg/lookup's fixed set.
func (m *NamespaceReads) Read(result string) {
	m.reads.WithLabelValues(result).Inc()
}
