// Package events turns noteworthy mutation findings (a fallback, a conflict, an invalid pin) into
// Kubernetes Events in the Pod's namespace, without ever slowing the admission path: Emit only
// does a non-blocking send to a bounded queue, and one goroutine rate-limits and records.
//
// The Pod being created has no UID (often no name) yet, so the Event regards the Pod's Namespace
// and lives in that namespace: `kubectl get events -n team-a` shows it to the team concerned.
//
// Rate limit: at most one Event per (namespace, reason, component) per Interval; the rest are
// dropped and counted (Dropped). Emit is safe for concurrent use.
package events
