// Package metricsauth guards the metrics endpoint the way the API server guards its own
// non-resource URLs (and the way controller-runtime's metrics/filters and kube-rbac-proxy do): the
// caller's bearer token is authenticated with a TokenReview, and the user it names must be allowed
// `get` on the request path (`/metrics`) by a SubjectAccessReview. No token or an unknown one: 401;
// a known user without the grant: 403; the API server unreachable: 503.
//
// It exists instead of controller-runtime's filters.WithAuthenticationAndAuthorization because that
// one pulls k8s.io/apiserver into the binary (CEL, OpenTelemetry, gRPC): +30 MB of binary and
// +20 MB of RSS at start for every replica, secure metrics or not. The two reviews are two
// client-go calls.
//
// Decisions are cached per (token digest, path): an allowed one for TTL (default 1m), a refused one
// for DenyTTL (default 10s), at most MaxEntries (default 1,024) of them; a failed review is not
// cached. At most MaxInFlight (default 8) reviews run at once; a request that would need another
// gets 429, so a flood of made-up tokens costs the API server at most that many reviews at a time.
// Filter is safe for concurrent use.
package metricsauth
