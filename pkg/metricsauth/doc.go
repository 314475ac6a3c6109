// Package metricsauth guards the metrics endpoint the way the API server guards its own
// non-resource URLs (and the way controller-runtime's metrics/filters do): the caller's bearer
// token is authenticated with a TokenReview, and the user it names must be allowed the request's
// verb (its method in lower case: GET is `get`, HEAD `head`, POST `post`) on the request path by a
// SubjectAccessReview. No token or an unknown one: 401; a known user without the grant: 403. The
// Authorization header is read as the API server reads it ("Bearer", any case, one space, the
// token; "Bearer  x" has none, a third field is ignored) and is not passed on to the handler.
//
// It exists instead of controller-runtime's filters.WithAuthenticationAndAuthorization because that
// one pulls k8s.io/apiserver into the binary (CEL, OpenTelemetry, gRPC): cmd/webhook grows from
// 35.7 to 63.8 MB (make build, stripped; 50 to 91 MB unstripped) and starts with +20 MB of RSS,
// on every replica, secure metrics or not. The two reviews are two client-go calls.
// TestWebhookLinksNoAPIServer keeps k8s.io/apiserver out of cmd/webhook.
//
// That filter is the oracle: e2e/metrics_auth_oracle_test.go serves one handler behind both on the
// real API server and requires the same decision, and the same body, for each caller. Where they
// differ, on purpose:
//   - a token the API server does not authenticate (made up, expired, another audience): 401 here,
//     as from the API server itself; the oracle answers 500 "Authentication failed", because its
//     authenticator reports such a token as an error and its filter maps every error to 500.
//   - the API server unreachable, or refusing the review: 503 here (retry later); 500 there.
//   - more than MaxInFlight reviews at once: 429 here; the oracle has no such bound.
//   - a token only from the Authorization header; the oracle also takes one from a WebSocket
//     subprotocol (`base64url.bearer.authorization.k8s.io.…`), which no scraper sends.
//   - how long a decision is remembered: one decision per (token digest, verb, path), an allowed
//     one for TTL (default 1m), a refused one for DenyTTL (default 10s), at most MaxEntries
//     (default 1,024), a failed review never. The oracle caches the token's user for 1m and the
//     authorization for 5m when allowed, 30s when refused. So a revoked grant stops working here
//     within 1m (there: 5m), a new one starts within 10s (there: 30s); past both caches the two
//     agree again (the e2e test's cache cases).
//
// At most MaxInFlight (default 8) reviews run at once; a request that would need another gets 429,
// so a flood of made-up tokens costs the API server at most that many reviews at a time.
// Filter is safe for concurrent use.
package metricsauth
