// Package review is the HTTP side of the admission path (Path): what `webhook serve` registers on
// controller-runtime's webhook server, which keeps TLS, certificate reloading, its webhook metrics
// and the probes. One Pod's review goes Edge → Handler (read, decode) → pkg/decide's decision (which
// calls pkg/mutate) → Handler (respond).
//
// Handler serves a review with its own http.Handler instead of controller-runtime's
// admission.Webhook, so that one review costs one read of the body, one decode and one write:
//
//   - The body is read once, bounded like controller-runtime's (MaxBodyBytes, 7 MiB: a body that
//     reaches it is answered 413) with the same order of checks (empty body, read error, size,
//     Content-Type exactly application/json), each answered with the same code.
//   - The AdmissionReview is decoded in one pass (github.com/go-json-experiment/json, with
//     encoding/json's v1 semantics for duplicate names, null and invalid UTF-8, and
//     case-sensitive names like Kubernetes' own decoder) into a slim view: the request fields the
//     decision reads and, of the Pod, only what pkg/mutate and pkg/decide read (slim.go). The
//     Pod handed to the decision is a corev1.Pod holding exactly those fields; env vars are
//     reduced to whether CODER_AGENT_TOKEN is among them, so the cost grows with containers and
//     volumes, not with env vars or bytes.
//   - The decision is pkg/decide's Decide, the same function the controller-runtime oracle
//     (reviewtest.ControllerRuntime, test-only) calls.
//   - The response AdmissionReview is written directly (response.go, patch.go), byte for byte
//     what controller-runtime's json.Encoder would write for the same answer, with a
//     Content-Type of application/json (controller-runtime sets none, so net/http labels its
//     answers text/plain).
//
// Deliberate differences from controller-runtime (the API server never sends such requests):
// a body that is not a JSON object is refused with code 400 and a message naming its first
// non-blank byte (controller-runtime would try YAML and answer with the YAML parser's error), and
// a field of the wrong type that the webhook does not read does not fail the review. The differential tests (differential_test.go) hold the two paths to the
// same decisions and the same response bytes everywhere else.
//
// Edge, in front of Handler, bounds what controller-runtime's webhook server does not:
//
//   - Time: controller-runtime's server sets only a 32 s header timeout, so a client that
//     announces a 7 MiB body and sends a byte every few seconds holds a connection (and a growing
//     buffer) for as long as it likes. Edge sets a read and a write deadline on the connection for
//     each request (EdgeOptions.Timeout, default 10 s, measured from when the request reaches it)
//     and gives the handler a context with the same deadline.
//   - Concurrency: at most EdgeOptions.MaxConcurrent requests (default 32) are handled at once;
//     with a 7 MiB body limit that caps request buffers at 224 MiB. One more is answered at once
//     with HTTP 429, a Retry-After of 1 s and a metav1.Status body. A non-200 answer is a failed
//     webhook call for the API server: its client retries 429 after Retry-After within the
//     webhook's timeoutSeconds, then failurePolicy applies. An AdmissionReview with an error
//     would instead be a denial, which rejects the Pod whatever the failurePolicy.
//   - Identity (optional): ClientCA makes the TLS server require a client certificate signed by
//     a given CA, the one the API server presents from its --admission-control-config-file
//     kubeconfig.
//
// Rejections and cut-off requests are reported through EdgeOptions.Rejected with a reason of the
// one closed set (ReasonOverloaded, ReasonRequestTimeout).
//
// Handler and Edge are safe for concurrent use and keep no per-request state beyond the request;
// a panic in the decision is answered with code 500 and the request's UID, as controller-runtime
// does.
package review
