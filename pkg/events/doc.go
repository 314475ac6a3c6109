// Package events turns noteworthy mutation findings (a fallback, a conflict, an invalid pin) into
// Kubernetes Events in the Pod's namespace, without ever slowing the admission path: Emit only
// does a non-blocking send to a bounded queue, and one goroutine rate-limits and records.
//
// The Pod being created has no UID (often no name) yet, so the Event regards the Pod's Namespace
// and lives in that namespace: `kubectl get events -n team-a` shows it to the team concerned. The
// component is part of the Event's identity (its action, "Inject/tilt-lib"), so the findings of two
// components with the same reason are two Events, never one series.
//
// Bounds: at most one Event per (namespace, reason, component) per Interval (default 1m); the
// keys are remembered in time order and expire in O(1), at most MaxKeys (default 10,000) of them.
// On top of that, at most Budget Events (default 60) in any window of Interval across all keys:
// the keys come from the review, so a sender naming N namespaces would otherwise get N Events.
// A note is valid UTF-8 and at most MaxNoteBytes (1,024, the API server's limit), cut at a rune
// boundary and marked. Dropped Events (queue full, rate-limited, over budget) are counted by cause
// (Dropped, and Options.Dropped for tiltlib_events_dropped_total). Emit is safe for concurrent
// use; Start runs in one goroutine.
package events
