// Package edge is the HTTP edge in front of the admission handler (pkg/admit in serve;
// controller-runtime's admission.Webhook in the tests that use it as an oracle): what
// controller-runtime's webhook server does not bound.
//
//   - Time: controller-runtime's server sets only a 32 s header timeout, so a client that
//     announces a 7 MiB body and sends a byte every few seconds holds a connection (and a growing
//     buffer) for as long as it likes. Edge sets a read and a write deadline on the connection for
//     each request (Options.Timeout, default 10 s, measured from when the handler starts) and
//     gives the handler a context with the same deadline.
//   - Concurrency: at most Options.MaxConcurrent requests (default 32) are handled at once; with a
//     7 MiB body limit that caps request buffers at 224 MiB. One more is answered at once with
//     HTTP 429, a Retry-After of 1 s and a metav1.Status body. A non-200 answer is a failed
//     webhook call for the API server: its client retries 429 after Retry-After within the
//     webhook's timeoutSeconds, then failurePolicy applies. An AdmissionReview with an error
//     would instead be a denial, which rejects the Pod whatever the failurePolicy.
//   - Clarity: a JSON body whose first non-blank byte (within 512) cannot start an object is
//     answered at once with a denied AdmissionReview (code 400) that says so, instead of the
//     YAML parser's error controller-runtime's decoder would return (pkg/admit refuses such a
//     body as well; the edge's answer comes first and is the same for both paths).
//   - Identity (optional): ClientCA makes the TLS server require a client certificate signed by
//     a given CA, the one the API server presents from its --admission-control-config-file
//     kubeconfig.
//
// Rejections and cut-off requests are reported through Options.Rejected with a reason from a
// fixed set. Edge is safe for concurrent use; it keeps no per-request state beyond the request.
package edge
