// Package admit serves the admission path (handler.Path) with its own http.Handler instead of
// controller-runtime's admission.Webhook, so that one review costs one read of the body, one
// decode and one write:
//
//   - The body is read once, bounded like controller-runtime's (MaxBodyBytes, 7 MiB: a body that
//     reaches it is answered 413) with the same order of checks (empty body, read error, size,
//     Content-Type exactly application/json), each answered with the same code.
//   - The AdmissionReview is decoded in one pass (github.com/go-json-experiment/json, with
//     encoding/json's v1 semantics for duplicate names, null and invalid UTF-8, and
//     case-sensitive names like Kubernetes' own decoder) into a slim view: the request fields the
//     decision reads and, of the Pod, only what pkg/mutate and pkg/handler read (slim.go). The
//     Pod handed to the decision is a corev1.Pod holding exactly those fields; env vars are
//     reduced to whether CODER_AGENT_TOKEN is among them, so the cost grows with containers and
//     volumes, not with env vars or bytes.
//   - The decision is pkg/handler's Decide, the same function controller-runtime's path calls.
//   - The response AdmissionReview is written directly (response.go, patch.go), byte for byte
//     what controller-runtime's json.Encoder would write for the same answer, with a
//     Content-Type of application/json (controller-runtime sets none, so net/http labels its
//     answers text/plain).
//
// Deliberate differences from controller-runtime (the API server never sends such requests):
// a body that is not a JSON object is refused (controller-runtime would try YAML; pkg/edge
// refuses it before either), and a field of the wrong type that the webhook does not read does
// not fail the review. The differential tests (differential_test.go) hold the two paths to the
// same decisions and the same response bytes everywhere else.
//
// Handler is safe for concurrent use and keeps no per-request state; a panic in the decision is
// answered with code 500 and the request's UID, as controller-runtime does.
package admit
