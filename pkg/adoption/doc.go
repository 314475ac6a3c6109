// Package adoption answers "which versions are the workspaces running now?" for Prometheus:
// tiltlib_workspace_pods{namespace,component,configmap,version} and
// tiltlib_configmap_versions{component,configmap,version}, computed at scrape time from a
// controller-runtime cache of workspace Pods and pkg/lookup's store of our ConfigMaps, plus
// tiltlib_ready (the replica's /readyz condition as a gauge).
//
// The Pod cache is metadata-only (PartialObjectMetadata), restricted server-side by the workspace
// label selector, and trimmed by a transform before it is stored: a Pod keeps its name, namespace,
// resourceVersion (the informer compares it on relist) and the two version labels the injector
// writes (<prefix>version, <prefix>templates-version). Annotations, managedFields, owner
// references and every other label are dropped: a stored workspace Pod keeps about 1 KB live
// instead of about 11 KB with its last-applied-configuration and managedFields
// (BenchmarkPodStoreMemory).
//
// The configmap label of a Pod is computed from its version label (the ConfigMap suffix the
// injector wrote) and our ConfigMaps:
//
//	label absent         -> configmap="none",    version=""  (never reviewed by the webhook)
//	label "none"         -> configmap="skipped", version=""  (reviewed, component not mounted)
//	"default" / "<v>"    -> "<base>" / "<base>-<v>" if that ConfigMap exists in the Pod's
//	                        namespace: configmap=<name>, version=<its version label now>;
//	                        else configmap="missing", version=""
//
// so a forged Pod label never becomes a configmap value unless that ConfigMap exists (with
// --configmap-selector, the store holds only the marked ones). Existing is not published: without
// the selector a tenant's own tilt-lib-<x> exists too, so the distinct (configmap, version) pairs
// are capped (Settings.MaxConfigMapSeries, --max-configmap-series): the pairs held by the most
// namespaces keep their series (ties: configmap, then version, in byte order; the same pairs on both
// gauges and every replica), every other pair is configmap="other", version="", its counts summed.
// Cardinality is at most workspace namespaces x 2 components x (our ConfigMaps in the namespace +
// 4), with at most MaxConfigMapSeries distinct pairs.
//
// Beware the two meanings of "none": configmap="none" is a Pod with NO version label (never
// reviewed), while a Pod whose version label is "none" (reviewed, not mounted) is counted as
// configmap="skipped". The values stay as they are until the next metric version; design.md
// ("Keys the webhook owns", "Adoption") says the same.
//
// tiltlib_rollout_workspaces{rollout,component,arm} (rollouts.go) reads the same Pods against the
// versions document in force (Settings.Versions): a Pod whose injected record names a rollout
// keeps, trimmed, its entries ("<component>/<rollout>/<arm>"), its generateName and its key labels
// (com.coder.workspace.id, com.coder.user.id); every other Pod keeps nothing more. At each scrape
// its standing is rollout.Standing(recorded arm, the arm a restart would run now): canary only
// when the rollout in force moves the component in its namespace, its key's bucket is below the
// threshold and the canary's ConfigMap exists there. Rollout names come from the document (a
// Pod naming another rollout is not counted), components from the table, arms from the fixed set:
// at most 16 x components x 6 series, every one exported (0 when empty).
//
// While either cache is unsynced the collector emits no adoption series at all: a partial view
// would show misleading zeros (or a falling gauge at every restart). The collector holds no state
// between scrapes and is safe for concurrent use; the real informers are exercised by e2e/.
package adoption
