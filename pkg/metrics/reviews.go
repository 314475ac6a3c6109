package metrics

import "github.com/platform-tools/tilt-lib-injector/pkg/mutate"

// Reasons of reviews decided before the mutation, besides ReasonDecode and ReasonIgnored.
const (
	// ReasonNotSelected: a Pod CREATE whose labels do not match --workspace-selector reached the
	// webhook (a webhook configuration broader than the chart's); it is allowed untouched.
	ReasonNotSelected = "not_selected"
	// ReasonInvalidNamespace: request.namespace is not a DNS-1123 label; no API server sends
	// that, so the request is refused (result="error").
	ReasonInvalidNamespace = "invalid_namespace"
)

// Skipped counts one review allowed untouched for reason, a constant of this package.
func (m *Metrics) Skipped(reason string) {
	m.reviews.WithLabelValues(string(mutate.OutcomeSkipped), reason).Inc()
}
