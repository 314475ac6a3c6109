// Package distributor runs the ConfigMap distributor of `webhook distribute` (issue 21): it keeps
// a copy of every source ConfigMap (pkg/distribute decides which, and what a copy holds) in every
// selected workspace namespace.
//
// Inputs come from three client-go informers, all started only once this replica leads (a Lease;
// the other replicas neither watch nor write): the sources (the source namespace, selected on the
// distribute label server-side), every Namespace, and the copies (every namespace, selected on
// app.kubernetes.io/managed-by=tilt-lib-injector, so an unmanaged ConfigMap is never cached). Any
// event queues one pass; passes never overlap and events during a pass coalesce into one more.
// A pass plans over the whole cache (pkg/distribute.Plan, milliseconds at 12,000 copies) and
// writes only what differs, a few writes at a time under the client's rate limiter (--qps,
// --burst). A periodic full resync (--resync) queues a pass too and forgets the clashes met so
// far, so an unmanaged ConfigMap that was removed is noticed.
//
// Deletion is the one write that can hurt a workspace, so it takes a fresh list of the
// namespace's Pods (never a cache) right before the plan that decides it, and is made with the
// copy's UID and resourceVersion as preconditions: a copy rewritten in between is not deleted.
//
// Cleanup (--cleanup) is the same rule run once without informers: every managed copy is an
// orphan; it is marked, and deleted once its grace is over and no live Pod mounts it.
//
// The controller is safe for one Start per process; its metrics are registered on the
// prometheus.Registerer given to NewMetrics.
package distributor
