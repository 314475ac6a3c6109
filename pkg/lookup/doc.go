// Package lookup answers the admission decision's two questions — "what are this Namespace's
// annotations?" and "does this ConfigMap exist, and with which version label?" — from in-memory
// caches, so the admission path calls the API server for no namespace the cache knows. The one
// exception is a Namespace the store does not hold yet (created seconds before its first
// workspace): Caches.NamespaceAnnotations reads it once (readthrough.go: a list by name, bounded
// by DefaultReadTimeout and a few reads in flight, shared by concurrent misses, stored when
// found, counted by result), and fails only when that read fails.
//
// The server uses Caches: two client-go Reflectors (list, watch, relist on expiry; a backoff of at
// most 1.5 s between attempts, backoff.go, so a relist follows an expired watch within seconds) over
// the metadata client, each feeding a store of ours that keeps only what admission reads:
//
//   - NamespaceStore: every Namespace name, and for a Namespace with annotations under the
//     injector's prefix, those annotations (equal sets interned: a pin costs one pointer). Every
//     name is kept so that "found" keeps its meaning: the Namespace exists.
//   - ConfigMapStore: only our ConfigMaps ("<base>" and "<base>-<v>" for the configured bases),
//     each with its version label. Every other ConfigMap (kube-root-ca.crt in every namespace) is
//     never retained; mutate only ever asks about ours. With Settings.ConfigMapSelector (the
//     platform's marker, --configmap-selector) the API server filters the ConfigMap list and
//     watch: a ConfigMap without the marker never reaches the process, so it does not exist for
//     the decision nor for the adoption gauges.
//
// Listed pages are trimmed as they arrive and the stores trim the watch-list buffer
// (TransformingStore), so managedFields are never held for more than a page. Measured
// (BenchmarkCacheMemory, every namespace pinned, kube-root-ca.crt everywhere, tilt-lib-v2 in
// every tenth): about 62–73 live bytes per namespace, against about 1.6 KB for the
// controller-runtime metadata caches with the trimming transforms that preceded them.
//
// Those controller-runtime caches (Settings.CacheOptions, Lookup over a client.Reader) remain, in
// oracle_test.go and so in no binary, as the oracle: TestStoresAgreeWithControllerRuntimeCache
// feeds both the same random event sequences, relists and tombstones included, and requires
// identical answers to every read the handler, mutate, the adoption gauges and the targets check
// make.
//
// Lookups are safe for concurrent use; the real Reflectors are exercised by e2e/.
package lookup
