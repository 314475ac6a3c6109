// Package rollout is the sticky canary assignment of docs/design.md ("Sticky canary rollouts"):
// which bucket a workspace falls in, whether that bucket is in a rollout's canary, and which key
// identifies the workspace of a Pod.
//
//   - Bucket is "hash version 1", frozen: the bucket of a key never changes for a given salt, so
//     a workspace keeps its arm across restarts and across injector versions. Changing the
//     hash would reshuffle every running rollout; a new hash must be a new version, chosen per
//     rollout, never a silent change. testdata/buckets.tsv, computed by testdata/buckets.py (an
//     implementation of its own, in Python), is the oracle.
//   - InCanary is monotonic in the percent: raising it only ever adds workspaces.
//   - KeyOf reads the workspace's (or its owner's) id from the Pod labels Coder sets, falling back
//     to the Pod's namespace/name only when that name was chosen, not generated.
//   - Assign places a Pod in an arm of one rollout (canary, baseline, no_key) with the bucket and
//     threshold that decided it; Standing classifies a running Pod against the rollout in force
//     (pending, reverted). Which choices a rollout may move, and the canary's ConfigMap being
//     missing (unavailable), are the caller's: this package sees no alias and no ConfigMap.
//
// Everything here is pure, deterministic and safe for concurrent use; Bucket allocates nothing
// for keys and salts within the document's bounds.
package rollout
