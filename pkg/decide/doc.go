// Package decide is the admission decision for one Pod review: Decider.Decide filters the
// request, builds the Pod, reads the Namespace's annotations and the ConfigMaps from caches (the
// Namespaces implementation may read a Namespace the cache misses from the API server, once:
// pkg/lookup), calls mutate.Mutate, records metrics and Events, and answers with the JSON
// patch and warnings. pkg/review's Handler, which `webhook serve` registers (one slim decode,
// response written directly), calls it; so does reviewtest.ControllerRuntime, the decision behind
// controller-runtime's admission.Webhook kept (test-only, in no binary) as the oracle of
// pkg/review's differential tests and benchmarks.
//
// Decisions before the mutation, in order: not a CREATE of pods (no subresource) → allowed
// untouched (not_pod_create); request.namespace not a DNS-1123 label → no decision, 400
// (invalid_namespace); caches not synced → no decision, 503 (not_ready); object not a v1 Pod →
// no decision, 400 (decode_error); Pod not matched by Selector → allowed untouched
// (not_selected); the Namespace unreadable → no decision, 500 (cache_error). The webhook never
// denies a Pod: "no decision" is an Answer that pkg/review turns into a failed call, to which the
// API server applies failurePolicy (Answer).
// Dry-run requests get the same answers but move no metric and emit no Event. The reasons in
// parentheses are the constants of reasons.go.
//
// The HTTP side (deadlines, concurrency limit, body size limit, content type, AdmissionReview
// decoding, failed calls, panic recovery) is pkg/review. Developer-controlled strings reach log
// lines only through logValue (truncated to MaxLogValueBytes, quoted when not plain). Everything
// here is safe for concurrent use; a Decider keeps no per-request state.
package decide
