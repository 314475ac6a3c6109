// Package metrics defines the injector's Prometheus metrics. They are created on the
// prometheus.Registerer the caller passes (controller-runtime's registry in the server, a fresh
// registry in tests), never the global default, so tests can assert exact deltas.
//
// Every label value is bounded: component and source are fixed sets, reason the one closed set
// of mutate.Reason constants (mutate's, pkg/decide's, pkg/review's; each documented in
// docs/design.md). configmap and version come from existing ConfigMaps ("missing" for one that
// does not exist, whatever name a developer asked for). Existing is not the same as published:
// without --configmap-selector, or with a marker a tenant forged, a tenant's own ConfigMap
// exists too, so tiltlib_injections_total gives at most Options.MaxConfigMapSeries
// (--max-configmap-series, default 100) distinct (configmap, version) pairs a series of their
// own, first come, and counts every later pair as configmap="other", version="" (a counter never
// forgets a series; the pairs it keeps stay exact). No Pod, workspace or user name ever becomes a
// label. Safe for concurrent use.
package metrics
