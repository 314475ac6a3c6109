// Package reviewtest holds what the admission benchmarks, the e2e suite and `make loadtest`
// (hack/loadtest) share with pkg/review's, pkg/decide's and pkg/mutate's tests: realistic Coder workspace Pods on a size ladder (2 KB
// to 89 KB review bodies), AdmissionReview bodies for them, and the two webhooks built the
// controller-runtime way that the admission path is compared with: ControllerRuntime (the
// decision behind controller-runtime's admission.Handler, the oracle of the differential tests)
// and Naive (the kubebuilder-style webhook: typed decode, marshal and diff); and Attacker, the
// hostile connections of issue 23 (header-only, trickle, full body never finished) that
// pkg/review's and the e2e suite's tests hold open against a webhook.
//
// Contract: test and benchmark support only; nothing under cmd/ imports it, so none of it is in
// the product binary. Everything here but Attacker is deterministic: the same Shape gives the
// same bytes.
package reviewtest
