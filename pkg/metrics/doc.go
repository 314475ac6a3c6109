// Package metrics defines the injector's Prometheus metrics. They are created on the
// prometheus.Registerer the caller passes (controller-runtime's registry in the server, a fresh
// registry in tests), never the global default, so tests can assert exact deltas.
//
// Every label value is bounded: component and source are fixed sets, configmap and version come
// from the ConfigMaps the platform team publishes ("missing" for one that does not exist, whatever
// name a developer asked for), reason from the one closed set of mutate.Reason constants
// (mutate's, pkg/decide's, pkg/review's; each documented in docs/design.md). No Pod, workspace or
// user name ever becomes a label. Safe for concurrent use.
package metrics
