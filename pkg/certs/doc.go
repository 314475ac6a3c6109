// Package certs keeps the webhook's serving certificate without cert-manager: a CA and a serving
// leaf in one Secret, shared by every replica, and the CA in the webhook configuration's
// caBundle, rotated so that no admission call fails at any point.
//
// # Layers
//
// The core is pure and clock-free: issue.go (NewCA, NewLeaf: ECDSA P-256; the leaf carries
// <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local, ServerAuth only), bundle.go
// (PEM parsing, merge and de-duplication), secret.go (Secret <-> State, tolerant of corruption),
// state.go and step.go (the state machine). Time and entropy are inputs; tests drive it with a
// fake clock. The Kubernetes side reads the Secret and the MutatingWebhookConfiguration from a
// cache restricted to those two objects by name (setup.go), writes the Secret with optimistic
// concurrency (keeper.go), JSON-patches the caBundle of our entries only (webhookconfig.go),
// serves the leaf from memory through tls.Config.GetCertificate (served.go) and exports
// tiltlib_certificate_expiry_timestamp_seconds{kind="leaf"|"ca"} (metrics.go).
//
// # The Secret
//
// Data: ca.crt/ca.key (the CA that signs the leaf), tls.crt/tls.key (the leaf),
// ca-bundle.crt (what every caBundle pointing at our Service must hold), next-ca.crt/next-ca.key
// (the CA being introduced). Annotations certs.tilt-lib.platform/phase, /published-at,
// /retire-at. The CA key is in the Secret so that any replica can issue.
//
// # State machine
//
//	stable ──(2/3 of CA life)──▶ adding ──(caBundle holds next CA for Settle)──▶ retiring
//	  ▲  bundle {CA}               bundle {CA, next}                             bundle {new, old}
//	  │  leaf signed by CA         leaf still signed by CA                       leaf signed by new
//	  └───────────────────(last leaf of the old CA expired + Margin)────────────────┘
//
// Transitions:
//
//  1. adding: the next CA joins the bundle; leaves keep coming from the current CA.
//  2. A replica that sees every caBundle entry pointing at our Service hold the next CA records
//     published-at. Once that has held for Settle (the API server reads webhook configurations
//     through its own informer), the next CA becomes the signing CA and a new leaf is issued:
//     the API server already trusts it. A caBundle that loses the next CA before then (helm
//     upgrade) clears published-at and the wait starts again after the heal.
//  3. retiring: the old CA stays in the bundle until the last leaf it signed has expired, plus
//     Margin. Replicas serve only leaves read from the Secret, and that leaf was the newest the
//     old CA signed, so after its NotAfter no replica can present a valid leaf that needs the
//     old CA: the API server's kept-alive connections to a replica still holding it have no
//     valid certificate to lose. Then the bundle is {new} again.
//
// Retiring trusts nothing the Secret says that a keeper did not do: retire-at is clamped to now +
// the certificate lifetime + Margin + the backdating (no leaf the old CA signed can outlive that;
// switchCA never sets it later, and the backdating covers a replica whose clock is a little
// behind), and the previous CA stays in the bundle only while the caBundle still holds it,
// so a CA appended to the Secret's bundle never reaches the caBundle.
//
// Independently of the phase, the leaf is renewed at 2/3 of its validity, by the signing CA,
// never past that CA's NotAfter. A leaf may last at most a quarter of the CA (Policy.Validate),
// so a rotation ends before the old CA expires. "2/3 of its validity" is capped at 2/3 of the
// policy's lifetime after NotBefore: a CA or leaf put in the Secret with a far NotAfter is
// replaced on the same schedule as ours.
//
// # Replicas without a leader
//
// Step is deterministic given its inputs (apart from fresh keys) and idempotent: every replica
// runs it on the Secret it reads and writes only when the encoding changed, with the
// resourceVersion it read. The first writer wins; the others get a conflict, re-read and find
// nothing left to do (their own freshly generated keys are discarded, never served). Replicas
// starting at once all try to create the Secret; AlreadyExists means adopt the winner's. A CA is
// never removed from a caBundle on the strength of a cached Secret: the Secret is re-read from
// the API server first, so a replica whose cache lags cannot undo a newer replica's work.
//
// # Corruption
//
// Decode keeps what is usable and reports the rest (bad PEM, trailing garbage, a key that does
// not match its certificate, an expired or non-CA CA, a leaf its CA did not sign or that lacks
// a current SAN). Step replaces exactly those parts; the caller logs each problem once and
// writes the repaired Secret. A corrupt Secret never stops the process.
//
// # Clock skew
//
// Certificates start 5 minutes before their issuer's clock (backdate), so replicas whose clocks
// differ by less agree on everything. A certificate that is not valid yet by the reader's clock
// (NotYetValidError: a node further ahead wrote it) is one more unusable part: replaced once,
// from the reader's clock, which every faster clock accepts as well. Kept, a CA from the future
// would fail every leaf issued under it, and the Secret would be rewritten on every round.
//
// Everything in the pure core is safe for concurrent use (no shared state).
package certs
