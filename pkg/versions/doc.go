// Package versions is the one live versions document (docs/design.md, "The versions document"):
// a YAML document of two sections, aliases (name -> version) and rollouts (sticky canaries),
// held in a ConfigMap the server watches (--versions-configmap) or read from a file by inject
// (--versions-file).
//
//   - Parse is strict (an unknown field, a YAML error, a wrong type is refused) and bounded
//     (MaxDocumentBytes, MaxRollouts, MaxAliases, name lengths); Validate checks every rule and
//     returns every broken one, each naming its field, joined into one error wrapping ErrInvalid.
//   - A Snapshot is immutable once built: the aliases in force (the static --alias flags, the
//     document winning for a name it defines) and the validated rollouts. Live holds the current
//     one in an atomic.Pointer: a review loads it once and reads that one snapshot from start to
//     end, while a new document swaps in a new snapshot without a lock.
//   - Live.Apply keeps the last good snapshot when a document is invalid or deleted; a replica
//     that never had a good document (present but invalid from the start) is not Ready.
//
// Parse, Validate and Snapshot are pure; Live is safe for concurrent use. The watch (the
// informer over the one ConfigMap) lives in watch.go and is exercised by e2e/.
package versions
