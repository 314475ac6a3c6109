package decide

import "github.com/platform-tools/tilt-lib-injector/pkg/mutate"

// Reasons of tiltlib_admission_reviews_total for reviews decided before the mutation (mutate's
// reasons explain the rest). They share mutate's Reason type, so the metric's reason label takes
// one closed set; docs/design.md ("Metrics") documents each.
const (
	// ReasonNotPodCreate: a request that is not a CREATE of pods (without subresource) reached the
	// webhook (a webhook rule broader than the chart's); it is allowed untouched (result skipped).
	ReasonNotPodCreate mutate.Reason = "not_pod_create"
	// ReasonInvalidNamespace: request.namespace is not a DNS-1123 label; no API server sends
	// that (result error; a failed call, 400).
	ReasonInvalidNamespace mutate.Reason = "invalid_namespace"
	// ReasonNotReady: the caches have not synced yet; answered at once (result error; a failed
	// call, 503).
	ReasonNotReady mutate.Reason = "not_ready"
	// ReasonDecode: the object is not a decodable v1 Pod (result error; a failed call, 400).
	ReasonDecode mutate.Reason = "decode_error"
	// ReasonNotSelected: a Pod CREATE whose labels do not match --workspace-selector reached the
	// webhook (a webhook configuration broader than the chart's); it is allowed untouched (result
	// skipped).
	ReasonNotSelected mutate.Reason = "not_selected"
	// ReasonCacheError: the Namespace could not be read (a cache miss whose read from the API
	// server failed or timed out); injecting with defaults would ignore its pin (result error; a
	// failed call, 500).
	ReasonCacheError mutate.Reason = "cache_error"
)
