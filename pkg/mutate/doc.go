// Package mutate is the pure core of tilt-lib-injector: given a Pod, its Namespace's annotations,
// the server Options and a ConfigMapLookup, it decides which ConfigMap of each component (a row of
// the component table, components.go: tilt-lib, tilt-templates) the Pod gets and returns the JSON
// patch (RFC 6902 "add" operations only) that mounts them.
//
// Contract:
//   - Pure and deterministic: no context, client, logger, clock or metrics. The only outside
//     knowledge comes through ConfigMapLookup, which callers back with an informer cache (server),
//     a file (webhook inject) or a map (tests).
//   - The input Pod is never modified.
//   - Idempotent: mutating a Pod that already carries the patch yields an empty patch.
//   - Re-decides its own earlier output (ours.go): a volume of a component's name that is ours (a
//     Pod pre-rendered by `webhook inject`, or copied from an injected Pod) is pointed at this
//     decision's ConfigMap ("add" on its configMap's name and optional); only a volume that is not
//     ours is a volume_conflict.
//   - Envbox (envbox.go, codermounts.go): an envbox target container's CODER_MOUNTS lists the
//     components it carries ("add" of the env var, or of its value member); reinvocation adds
//     nothing, a value it cannot extend is left alone (envbox_mounts_untouched).
//   - User mistakes (bad annotation values, conflicting volumes or mounts, missing ConfigMaps) never
//     fail the mutation: they become Reasons and human-readable Warnings, and the workspace Pod is
//     still admitted.
//   - Safe for concurrent use: Mutate keeps no state between calls; Options is read-only.
//   - Bounded: the work is linear in the Pod's size, and what comes out is capped whatever comes in
//     (limits.go): at most MaxContainers containers considered, a containers annotation of at most
//     MaxContainersAnnotationBytes / MaxContainersAnnotationNames, at most MaxWarnings warnings plus
//     one summary, every quoted developer value truncated, and the Pod's annotations never pushed
//     over the API server's MaxAnnotationsBytes.
//   - Every warning ends with "(reason: <reason>)", a Reason of reasons.go.
//   - The webhook owns its keys: the status annotation (size permitting) and every component's
//     version label (the ConfigMap mounted) and requested-version label (the version asked for)
//     are always written (NoneLabel for a component not mounted); an injected annotation the
//     Pod brought is replaced, or removed when nothing is injected. That removal is the only
//     non-"add" operation.
//   - Explainable on request: a Request with a Trace (trace.go) gets every step of the decision and
//     its conclusion, which equals the Result; tracing changes nothing else, and a nil Trace (every
//     admission) costs nothing: each recording site is behind a nil check.
//
// The contract (annotations, precedence, reasons) is docs/design.md. The admission handler
// (pkg/decide), the offline `webhook inject` command and `webhook explain` (pkg/explain) all call
// Mutate, so what `inject` prints and `explain` explains is exactly what the server would do.
package mutate
