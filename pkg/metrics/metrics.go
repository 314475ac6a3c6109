package metrics

import (
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Result label values besides mutate's outcomes.
const ResultError = "error"

// Metrics are the injector's counters and gauges.
type Metrics struct {
	injections *prometheus.CounterVec
	reviews    *prometheus.CounterVec
	envbox     *prometheus.CounterVec
	pairs      *pairs
}

// Options tune the metrics.
type Options struct {
	// MaxConfigMapSeries is the most (configmap, version) pairs of tiltlib_injections_total with
	// a series of their own (--max-configmap-series); 0 means DefaultMaxConfigMapSeries.
	MaxConfigMapSeries int
}

// New creates the metrics on reg, with the default Options, and sets tiltlib_build_info for
// version.
func New(reg prometheus.Registerer, version string) (*Metrics, error) {
	return NewWithOptions(reg, version, Options{})
}

// NewWithOptions is New with o.
func NewWithOptions(reg prometheus.Registerer, version string, o Options) (*Metrics, error) {
	if o.MaxConfigMapSeries <= 0 {
		o.MaxConfigMapSeries = DefaultMaxConfigMapSeries
	}
	m := &Metrics{
		pairs: newPairs(o.MaxConfigMapSeries),
		injections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiltlib_injections_total",
			Help: "Components injected into workspace Pods, by the ConfigMap and semantic version mounted and which precedence level chose it. Dry-run requests are not counted.",
		}, []string{"component", "configmap", "version", "source"}),
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiltlib_admission_reviews_total",
			Help: "Admission reviews handled, by result (injected, skipped, error) and the reason that best explains it. Dry-run requests are not counted.",
		}, []string{"result", "reason"}),
		envbox: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiltlib_envbox_mounts_total",
			Help: "Reviews of Pods with an envbox container carrying a component, by what was done about CODER_MOUNTS: added (listed by this patch), present (already listed), untouched (left alone: envbox_mounts_untouched). Dry-run requests are not counted.",
		}, []string{"result"}),
	}
	// Every series starts at 0: the label set is closed.
	for _, r := range []mutate.EnvboxOutcome{mutate.EnvboxAdded, mutate.EnvboxPresent, mutate.EnvboxUntouched} {
		m.envbox.WithLabelValues(string(r))
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tiltlib_build_info",
		Help: "Always 1; labels carry the webhook's build version and Go version.",
	}, []string{"version", "goversion"})
	info.WithLabelValues(version, runtime.Version()).Set(1)
	for _, c := range []prometheus.Collector{m.injections, m.reviews, m.envbox, info} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return m, nil
}

// MissingConfigMap is the configmap label of an injection whose ConfigMap does not exist.
const MissingConfigMap = "missing"

// Observe counts one non-dry-run review that reached the mutation.
//
// A ConfigMap that does not exist is counted as configmap="missing", version="": its name comes
// from a developer's annotation value, and fresh values would each make a new series that is never
// freed. (Even a configured default that does not exist is "missing": what matters on a dashboard
// is that the mount is empty.) An existing ConfigMap is one the platform publishes only with
// --configmap-selector; without it (or if a tenant forges the marker) a tenant's own ConfigMaps
// exist too, so existing pairs are capped as well: the first MaxConfigMapSeries pairs seen keep
// their series, every later one is configmap="other", version="".
func (m *Metrics) Observe(r mutate.Result) {
	for _, in := range r.Injected {
		configMap, version := MissingConfigMap, ""
		if in.Exists {
			configMap, version = m.pairs.label(in.ConfigMap, in.Version)
		}
		m.injections.WithLabelValues(in.Component, configMap, version, string(in.Source)).Inc()
	}
	m.reviews.WithLabelValues(string(r.Outcome), string(r.Reason)).Inc()
	if r.Envbox != mutate.EnvboxNone {
		m.envbox.WithLabelValues(string(r.Envbox)).Inc()
	}
}

// Error counts one review that was refused or cut off (result="error"): a reason of pkg/decide or
// pkg/review's edge.
func (m *Metrics) Error(reason mutate.Reason) {
	m.reviews.WithLabelValues(ResultError, string(reason)).Inc()
}

// Skipped counts one review allowed untouched before the mutation (result="skipped"): a reason of
// pkg/decide (not_pod_create, not_selected).
func (m *Metrics) Skipped(reason mutate.Reason) {
	m.reviews.WithLabelValues(string(mutate.OutcomeSkipped), string(reason)).Inc()
}
