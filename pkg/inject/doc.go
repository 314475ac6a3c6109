// Package inject is the library behind `webhook inject`: the admission webhook's mutation, run
// offline over manifests. It reads Pods and workloads with a pod template (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController), as YAML or JSON,
// single or multi-document, or wrapped in a List, calls mutate.Mutate for each Pod (template) and
// prints the mutated manifests or their JSON patches.
//
// Contract:
//   - What it prints is what the server would do: the patch comes from pkg/mutate unchanged, only
//     re-rooted under the workload's pod template, and the warnings are the ones kubectl would show.
//   - No network and no cluster: the Namespace and the ConfigMaps that exist come from the files
//     named in Options; without a ConfigMaps file every ConfigMap is assumed to exist. Apart from
//     those two files, Run reads only the reader and writes only the writers it is given.
//   - All or nothing: the whole input is read and mutated before anything is written, so an
//     invalid document leaves out and errOut untouched and a pipeline never sees half a stream.
//   - Documents that carry no Pod, and Pods that need nothing, pass through unchanged, byte for
//     byte when the input was YAML; running inject on its own output changes nothing.
//   - Malformed input is an error (wrapping ErrInvalidDocument, naming the file and the 1-based
//     document), never a panic.
//   - Safe for concurrent use: Run keeps no state between calls.
package inject
