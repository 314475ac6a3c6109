// Package explain answers "why did (or would) this workspace get this library version, or none":
// it runs the webhook's own decision (pkg/mutate) on a Pod or pod template and turns it, with what
// the caller read of the cluster (the registration, the Namespace, the ConfigMaps, the Pod's
// recorded choice), into one row per layer (√ ‼ ×) with a hint, and an exit code for CI.
//
// Contract:
//   - Pure: no client, clock or I/O. cmd/webhook's `explain` reads the cluster (or files) and
//     fills Input; Explain decides; Report renders.
//   - The decision is mutate.Mutate's, never a re-implementation: the rows quote its Result (and
//     its trace of the steps) and the choice it records.
//   - The JSON form (Report.JSON) is a stable, documented schema (docs/design.md, "webhook
//     explain"): fields are only ever added.
package explain
