// Package handler is the admission adapter: a controller-runtime admission.Handler for
// /mutate-v1-pod that decodes the Pod, reads the Namespace's annotations and the ConfigMaps from
// caches (never the API server), calls mutate.Mutate, records metrics and Events, and answers
// with the JSON patch and warnings.
//
// The HTTP edge — body size limit (controller-runtime's 7 MiB), content type, AdmissionReview
// decoding, panic recovery — is controller-runtime's admission.Webhook. Everything here is safe
// for concurrent use; the handler keeps no per-request state.
package handler
