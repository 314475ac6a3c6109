package adoption

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// configmap label values that are not ConfigMap names.
//
// Beware "none", which means two things: configmap="none" here is a Pod WITHOUT a version label
// (never reviewed), while the Pod label value "none" (mutate.NoneLabel) means reviewed and not
// mounted, counted as configmap="skipped". The metric keeps its values (dashboards and the
// TiltLibWorkspacesNotInjected alert read them); a new word waits for the next metric version.
const (
	// NotInjected: the Pod has no version label for the component; the webhook never saw it.
	NotInjected = "none"
	// Skipped: the webhook reviewed the Pod and did not mount the component (its version label
	// is mutate.NoneLabel, "none").
	Skipped = "skipped"
	// Missing: the label names a ConfigMap that does not exist in the Pod's namespace.
	Missing = metrics.MissingConfigMap
)

// Metric names.
const (
	WorkspacePods     = "tiltlib_workspace_pods"
	ConfigMapVersions = "tiltlib_configmap_versions"
	Ready             = "tiltlib_ready"
)

const (
	workspacePodsHelp     = "Live workspace Pods (matching the workspace selector) by namespace, component and the ConfigMap they mount: configmap is a ConfigMap of ours with its current version label, or none (the Pod has no version label: never reviewed by the webhook; not to be confused with the Pod label value \"none\"), skipped (reviewed, not mounted: the Pod's version label is \"none\"), missing (the ConfigMap does not exist). Every replica exports the same values: aggregate with max across replicas."
	configMapVersionsHelp = "Namespaces holding each of our ConfigMaps, by its version label (empty when absent). Every replica exports the same values: aggregate with max across replicas."
)

// listTimeout bounds a cache read during a scrape. Once synced, a cache List never waits; the
// bound only keeps a scrape from hanging should that ever change.
const listTimeout = 5 * time.Second

// ConfigMaps is a store of our ConfigMaps with their version labels: pkg/lookup's
// ConfigMapStore in the server.
type ConfigMaps interface {
	Range(fn func(k lookup.ConfigMapKey, version string))
}

// Collector computes the adoption gauges from the caches at every scrape.
type Collector struct {
	pods       client.Reader
	configMaps ConfigMaps
	settings   Settings
	synced     func() bool
	log        logr.Logger
	podsDesc   *prometheus.Desc
	versions   *prometheus.Desc
	rollouts   *prometheus.Desc
}

// New creates the collector and registers it on reg. pods serves metadata-only Pods (the informer
// of Settings.PodCache), configMaps our ConfigMaps; synced reports whether both have synced.
func New(reg prometheus.Registerer, pods client.Reader, configMaps ConfigMaps, s Settings, synced func() bool, log logr.Logger) (*Collector, error) {
	c := &Collector{
		pods: pods, configMaps: configMaps, settings: s, synced: synced, log: log,
		podsDesc: prometheus.NewDesc(WorkspacePods, workspacePodsHelp,
			[]string{"namespace", "component", "configmap", "version"}, nil),
		versions: prometheus.NewDesc(ConfigMapVersions, configMapVersionsHelp,
			[]string{"component", "configmap", "version"}, nil),
		rollouts: prometheus.NewDesc(RolloutWorkspaces, rolloutWorkspacesHelp,
			[]string{"rollout", "component", "arm"}, nil),
	}
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering adoption metrics: %w", err)
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.podsDesc
	ch <- c.versions
	ch <- c.rollouts
}

// Collect implements prometheus.Collector. It emits nothing until the caches have synced, and
// nothing (with a log line) if a cache read fails: no series is better than a wrong one.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.synced != nil && !c.synced() {
		return
	}
	pods, versions, rollouts, err := c.count()
	if err != nil {
		c.log.Error(err, "adoption gauges not exported in this scrape")
		return
	}
	for k, n := range rollouts {
		ch <- prometheus.MustNewConstMetric(c.rollouts, prometheus.GaugeValue, float64(n), k.rollout, k.component, string(k.arm))
	}
	for k, n := range pods {
		ch <- prometheus.MustNewConstMetric(c.podsDesc, prometheus.GaugeValue, float64(n), k.namespace, k.component, k.configMap, k.version)
	}
	for k, n := range versions {
		ch <- prometheus.MustNewConstMetric(c.versions, prometheus.GaugeValue, float64(n), k.component, k.configMap, k.version)
	}
}

type podSeries struct{ namespace, component, configMap, version string }

type versionSeries struct{ component, configMap, version string }

type nsName struct{ namespace, name string }

// count reads both caches once and tallies the gauges, with the (configmap, version) pairs
// beyond Settings.MaxConfigMapSeries folded into configmap="other" (see kept), and the rollout
// gauge (rollouts.go).
func (c *Collector) count() (map[podSeries]int, map[versionSeries]int, map[rolloutSeries]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	ours := map[nsName]string{} // our ConfigMaps -> version label
	held := map[versionSeries]int{}
	add := func(k lookup.ConfigMapKey, v string) {
		comp, ok := c.settings.owner(k.Name)
		if !ok {
			return
		}
		ours[nsName{k.Namespace, k.Name}] = v
		held[versionSeries{comp.name, k.Name, v}]++
	}
	c.configMaps.Range(add)
	keep := kept(held, c.settings.maxConfigMapSeries())
	pods := list("PodList")
	if err := c.pods.List(ctx, pods); err != nil {
		return nil, nil, nil, fmt.Errorf("listing workspace Pods from the cache: %w", err)
	}
	counts := map[podSeries]int{}
	comps := c.settings.components()
	for i := range pods.Items {
		p := &pods.Items[i]
		for _, comp := range comps {
			label, has := p.Labels[comp.labelKey]
			configMap, version, exists := resolve(comp, label, has, p.Namespace, ours)
			if exists && keep != nil && !keep[versionSeries{comp.name, configMap, version}] {
				configMap, version = Other, ""
			}
			counts[podSeries{p.Namespace, comp.name, configMap, version}]++
		}
	}
	return counts, capVersions(held, keep), c.countRollouts(pods.Items, ours), nil
}

// resolve maps a Pod's version label for comp to the configmap and version label values:
//
//	absent -> none; "none" -> skipped; "default" -> <base>; "<v>" -> <base>-<v>;
//	a name that is not a ConfigMap in the namespace -> missing
//
// Only an existing ConfigMap's name and version label ever become label values (exists).
func resolve(comp component, label string, has bool, namespace string, ours map[nsName]string) (configMap, version string, exists bool) {
	switch {
	case !has:
		return NotInjected, "", false
	case label == mutate.NoneLabel:
		return Skipped, "", false
	}
	name := configMapOf(comp, label)
	v, exists := ours[nsName{namespace, name}]
	if !exists {
		return Missing, "", false
	}
	return name, v, true
}

func list(kind string) *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return l
}
