// Package handler is the admission decision for /mutate-v1-pod: Decide filters the request,
// decodes the Pod, reads the Namespace's annotations and the ConfigMaps from caches (never the
// API server), calls mutate.Mutate, records metrics and Events, and answers with the JSON patch
// and warnings. pkg/admit's http.Handler, which `webhook serve` registers (one slim decode,
// response written directly), calls it; so does admittest.ControllerRuntime, the
// controller-runtime admission.Handler kept (test-only, in no binary) as the oracle of pkg/admit's
// differential tests and benchmarks.
//
// Decisions before the mutation, in order: not a CREATE of pods (no subresource) → allowed
// untouched (not_pod_create); request.namespace not a DNS-1123 label → denied, 400
// (invalid_namespace); caches not synced → denied, 503 (not_ready); object not a v1 Pod →
// denied, 400 (decode_error); Pod not matched by Selector → allowed untouched (not_selected).
// Dry-run requests get the same answers but move no metric and emit no Event. The reasons in
// parentheses are the constants of reasons.go.
//
// The HTTP edge (deadlines, concurrency limit, body sniffing) is pkg/edge, wrapping pkg/admit
// (body size limit of 7 MiB, content type, AdmissionReview decoding, panic recovery).
// Developer-controlled strings reach log lines only through logValue (truncated, quoted when not
// plain). Everything here is safe for concurrent
// use; the handler keeps no per-request state.
package handler
