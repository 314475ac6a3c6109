// Package inject is the library behind `webhook inject`: the admission webhook's mutation, run
// offline over manifests. It reads Pods and workloads with a pod template (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController), as YAML or JSON,
// single or multi-document, or wrapped in a List, calls mutate.Mutate for each selected Pod
// (template) and prints the mutated manifests or their JSON patches.
//
// Input (Options.Filenames, like kubectl apply -f): files, directories (their .yaml, .yml and
// .json files in lexical order; subdirectories only with Recursive) and "-" for the reader given
// to Run, at most once. Everything named is read, in the order named, and printed in that order.
//
// What the cluster would know:
//   - Namespaces: those of --namespace-file (several, each object gets its own by name) and the
//     Namespace objects of the input. For a name in both, the file wins (it states what the cluster
//     has) and a namespace_overridden warning says so when their annotations differ. An object that
//     names no namespace is in "default", or in the file's Namespace when the file holds exactly
//     one. When Namespaces are given but not an object's, its annotations are taken as none, with a
//     namespace_unknown warning once per namespace; with no Namespace given at all, silently.
//   - ConfigMaps: --configmaps-file is the whole truth when given (it must hold a ConfigMap, or be
//     an empty List for "none exist"; a ConfigMap naming no namespace exists in every namespace).
//     Without it, in a namespace for which the input holds a ConfigMap named like ours (a base
//     name, or base-<version>), the input's ConfigMaps are all that exist; elsewhere every
//     ConfigMap exists, version unknown. When ConfigMaps are known, a default version or alias
//     target with no ConfigMap in any namespace of them gets a configmap_missing warning, the one
//     serve logs at start (mutate.Options.MissingTargets).
//   - Only Pods (templates) whose labels match Options.WorkspaceSelector are mutated; the others
//     pass through untouched, as the webhook's objectSelector would leave them.
//
// Output: stdout gets only the manifests (-o yaml) or one JSON object per Pod or workload per
// line (-o patch: {"apiVersion","kind","namespace","name","generateName"?,"patch"}, "patch":[]
// when nothing is added, the namespace being the one the object was mutated for). stderr gets the
// warnings, each "Warning: [kind/name: ]tilt-lib-injector: … (reason: <reason>)", then one summary
// line per object: "deployment/x injected (tilt-lib-v2@2.0.1, tilt-templates)", "service/y skipped
// (not a workload)", "deployment/z skipped (not a workspace (selector …))", "pod/p skipped
// (<reason>)".
//
// Bounds (each with a test at the bound): MaxFileBytes (16 MiB) per file, including stdin and the
// Namespace and ConfigMaps files; MaxInputBytes (32 MiB) for all -f inputs together;
// MaxDocumentBytes (3 MiB, the API server's request limit) per document as JSON with YAML aliases
// expanded; and YAML aliases may repeat at most as many bytes as their document has. The last two
// are checked on the parse tree before anything is expanded, so an alias bomb costs milliseconds.
//
// Contract:
//   - What it prints is what the server would do: the patch comes from pkg/mutate unchanged, only
//     re-rooted under the workload's pod template, and the warnings are the ones kubectl would show.
//   - No network and no cluster; Run reads only the files named in Options and the reader, and
//     writes only the writers it is given.
//   - Never drops input: every document is printed back (mutated, or unchanged and byte for byte
//     when it was YAML), with a summary line saying what became of it; a document it cannot
//     understand is an error.
//   - All or nothing: the whole input is read and mutated before anything is written, so an
//     invalid document leaves out and errOut untouched and a pipeline never sees half a stream.
//   - Running inject on its own output changes nothing (every patch empty).
//   - Malformed or oversized input is an error (wrapping ErrInvalidDocument, ErrTooLarge or
//     ErrAliasExpansion, naming the file and the 1-based document), never a panic.
//   - Safe for concurrent use: Run keeps no state between calls.
package inject
