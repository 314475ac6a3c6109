// Package distribute decides how the platform's library ConfigMaps are copied from one source
// namespace into every selected workspace namespace (`webhook distribute`, issue 21). It is pure
// and deterministic: Plan is a function of (Settings, Input) with no client, clock, logger or
// metrics, so every rule below is a row of its table test. It is safe for concurrent use (it
// keeps no state). The controller (pkg/distributor) gathers the Input from its caches, a fresh
// Pod list where Plan needs one (NeedsPods), and executes the Actions.
//
// The contract:
//
//   - Sources: ConfigMaps in Settings.SourceNamespace labelled <prefix>distribute=true and named
//     like ours (lookup.Settings.Ours: "<base>" or "<base>-<version>" for a configured base). At
//     most MaxSources are distributed (in name order) and each holds at most MaxSourceBytes of
//     data and binaryData; a source over a bound is refused (a Refused action says why) and its
//     existing copies are left as they are: a source we refuse is not a source removed.
//   - Targets: namespaces matching Settings.Selector (required, never empty), minus
//     Settings.Excluded and never the source namespace.
//   - What a copy holds: the source's data, binaryData and version label; the labels
//     app.kubernetes.io/managed-by=tilt-lib-injector and <prefix>source-namespace=<source ns>;
//     the annotation <prefix>content-hash (Hash of data, binaryData and version). Nothing else of
//     the source: no other label or annotation (so never Argo CD's app.kubernetes.io/instance or
//     argocd.argoproj.io/* tracking, which would make Argo CD prune the copies), never immutable.
//   - Ours: a ConfigMap in a target namespace carrying managed-by=tilt-lib-injector and our
//     source-namespace label is a copy we manage. A same-named one without managed-by, or the copy
//     of another source namespace (another distributor's), is never written (Conflict). A human
//     adopts a ConfigMap by adding managed-by: it is then updated and gets our source label. Only
//     our own copies are ever orphaned. Managed, SourceOf and Settings.Clash state this rule once:
//     Plan decides with them and `webhook explain` (pkg/explain) reports a clash with them.
//   - In sync: the copy's own content hashes to the source's, its hash annotation and labels are
//     ours and it is not marked orphaned. Otherwise Update (an edited copy is reverted).
//   - Orphans: a managed copy whose source is gone (removed, unlabelled) or whose namespace is no
//     longer a target is first marked (<prefix>orphaned-at, MarkOrphaned), kept for Settings.Grace,
//     then deleted only if a fresh list of its namespace's live Pods shows none mounting it
//     (Delete, with the copy's UID and resourceVersion as preconditions); otherwise KeepMounted
//     with the count. A copy whose source returns is updated, which clears the mark.
package distribute
