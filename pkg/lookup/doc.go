// Package lookup answers the admission handler's two questions — "what are this Namespace's
// annotations?" and "does this ConfigMap exist, and with which version label?" — from
// controller-runtime informer caches, so the admission path never calls the API server.
//
// The caches hold metadata only (PartialObjectMetadata) and are trimmed by transforms before
// they are stored: managedFields always go; a Namespace keeps only the annotations under the
// injector's prefix; a ConfigMap whose name is not one of the configured bases (tilt-lib,
// tilt-lib-<v>, tilt-templates, ...) keeps only its name, and one that is keeps only its version
// label. A cluster with ten thousand unrelated ConfigMaps therefore costs a few hundred bytes
// each, not their last-applied-configuration annotations.
//
// Lookups are safe for concurrent use; the real informers are exercised by e2e/.
package lookup
