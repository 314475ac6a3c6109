// Package review is the HTTP side of the admission path (Path): what `webhook serve` registers on
// controller-runtime's webhook server, which keeps TLS, certificate reloading, its webhook metrics
// and the probes. One Pod's review goes Edge → Handler (read, decode) → pkg/decide's decision (which
// calls pkg/mutate) → Handler (respond).
//
// Handler serves a review with its own http.Handler instead of controller-runtime's
// admission.Webhook, so that one review costs one read of the body, one decode and one write:
//
//   - The body is read once, with controller-runtime's order of checks (empty body, read error,
//     size, Content-Type exactly application/json), each answered with the same code, into a
//     pooled buffer that grows only as bytes arrive (body.go). Its size is bounded by MaxBodyBytes,
//     3 MiB (the largest plain Pod the API server stores gives a 1.50 MiB review): a body that
//     reaches it is a failed call, HTTP 413 with a metav1.Status, where controller-runtime allows
//     7 MiB and denies with an AdmissionReview.
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
// a body that is not a JSON object is refused with code 400 (a failed call) and a message naming
// its first non-blank byte (controller-runtime would try YAML and answer with the YAML parser's error), and
// a field of the wrong type that the webhook does not read does not fail the review; and a body of
// MaxBodyBytes or more gets a failed call (verdict overCap). The differential tests
// (differential_test.go) hold the two paths to the same decisions and the same response bytes
// everywhere else.
//
// Edge, in front of Handler, bounds what controller-runtime's webhook server does not (issue 23:
// anyone who reaches the port can open connections, so nothing a connection announces is trusted):
//
//   - Bodies: the edge reads each body itself (readBody), in a buffer charged, before it grows,
//     to one Budget for all bodies in flight (EdgeOptions.MaxBodyBytesInFlight, default 16 MiB);
//     of each body, the bytes beyond 64 KiB may use only half of it, so big bodies never crowd out
//     ordinary reviews. A Content-Length of MaxBodyBytes or more is answered 413 unread; a body
//     that does not fit the budget, 503 with Retry-After. The wrapped handler gets the complete
//     body (Handler takes its bytes without a copy).
//   - Time: a short deadline for the body (EdgeOptions.BodyTimeout, default 2 s from the end of the
//     headers: the API server sends a review at once, so a trickle is cut with 408), and one for
//     the whole request (EdgeOptions.Timeout, default 10 s): the handler's context carries it.
//   - Concurrency: a slot is taken once the body is complete, so connections still sending hold
//     none; at most EdgeOptions.MaxConcurrent (default 32) are decided at once. One more is
//     answered at once with HTTP 429, a Retry-After of 1 s and a metav1.Status.
//   - Identity (optional): ClientCA makes the TLS server require a client certificate signed by
//     a given CA, the one the API server presents from its --admission-control-config-file
//     kubeconfig.
//
// Every refusal is a non-200 answer: a failed webhook call for the API server, whose client
// retries 429 and 503 after Retry-After within the webhook's timeoutSeconds, then failurePolicy
// applies. An AdmissionReview with an error would instead be a denial, which rejects the Pod
// whatever the failurePolicy. Refusals and cut-off requests are reported through
// EdgeOptions.Rejected with a reason of the one closed set (ReasonOverloaded,
// ReasonRequestTimeout, ReasonBodyTooLarge, ReasonBodyBudget, ReasonPanic).
//
// Handler never denies a Pod: every answer that is not a decision (caches not synced, an object
// that is not a decodable Pod, a Namespace that cannot be read, a malformed request) is a failed
// call too, HTTP status = the reason's code with a metav1.Status (failCall), so failurePolicy
// decides: Ignore admits the Pod un-injected, Fail refuses it with our message. A panic anywhere
// on the path is recovered (Handler, with the request's UID once decoded; Edge, before), answered
// with a failed call (500) and counted with ReasonPanic: only that request fails.
//
// Handler and Edge are safe for concurrent use and keep no per-request state beyond the request.
package review
