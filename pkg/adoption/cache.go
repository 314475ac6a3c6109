package adoption

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// PodObject returns a fresh metadata-only Pod, the key of the Pod informer in the cache options
// and the type to register it with (GetInformer).
func PodObject() client.Object {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	return m
}

// Settings say which Pods are watched and what the gauges read.
type Settings struct {
	// Options give the annotation prefix and the component table (hence the Pod label key and
	// the ConfigMap base name of each component).
	Options mutate.Options
	// VersionLabel is the ConfigMap label holding the semantic version (--version-label).
	VersionLabel string
	// Selector picks the workspace Pods (--workspace-selector); the API server filters the watch.
	Selector labels.Selector
	// MaxConfigMapSeries is the most (configmap, version) pairs with a series of their own in
	// each gauge (--max-configmap-series); 0 means metrics.DefaultMaxConfigMapSeries.
	MaxConfigMapSeries int
	// OwnNamespace is the injector's own namespace (--service-namespace): never a workspace
	// namespace, so its Pods are not watched (the API server filters) and never counted.
	OwnNamespace string
	// Versions serves the versions document in force (--versions-configmap): the rollouts of
	// tiltlib_rollout_workspaces. Nil: no rollout gauge, and no Pod keeps its rollout entries.
	Versions Versions
}

func (s Settings) maxConfigMapSeries() int {
	if s.MaxConfigMapSeries <= 0 {
		return metrics.DefaultMaxConfigMapSeries
	}
	return s.MaxConfigMapSeries
}

// PodCache is the cache entry of the Pod informer: watch only workspace Pods, store them trimmed.
func (s Settings) PodCache() cache.ByObject {
	noCopy := true // the collector only reads; no deep copy of 10k Pods per scrape
	bo := cache.ByObject{Label: s.Selector, Transform: s.trimPod, UnsafeDisableDeepCopy: &noCopy}
	if s.OwnNamespace != "" {
		bo.Field = fields.OneTermNotEqualSelector("metadata.namespace", s.OwnNamespace)
	}
	return bo
}

// trimPod keeps what the informer and the gauges need: name, namespace, resourceVersion and the
// version labels; a Pod whose injected record names a rollout also keeps its rollout entries,
// generateName and key labels (rollouts.go). Strings are cloned so a kept name never pins the
// buffer it was decoded from.
func (s Settings) trimPod(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil // tombstones and the like pass through
	}
	var keep map[string]string
	for _, c := range s.components() {
		if v, has := m.Labels[c.labelKey]; has {
			if keep == nil {
				keep = make(map[string]string, len(s.Options.Components))
			}
			keep[c.labelKey] = strings.Clone(v)
		}
	}
	trimmed := metav1.ObjectMeta{
		Name:            strings.Clone(m.Name),
		Namespace:       strings.Clone(m.Namespace),
		ResourceVersion: strings.Clone(m.ResourceVersion),
		Labels:          keep,
	}
	if s.Versions != nil {
		if entries := s.trimRollouts(m.Annotations); entries != "" {
			keepForRollouts(&trimmed, &m.ObjectMeta, entries)
		}
	}
	m.ObjectMeta = trimmed
	return m, nil
}

var _ toolscache.TransformFunc = Settings{}.trimPod

// component is one injected component as the gauges see it.
type component struct {
	name     string // the component label value, as in tiltlib_injections_total
	labelKey string // the Pod label the injector writes: <prefix>version, <prefix>templates-version
	base     string // the unversioned ConfigMap; versions are "<base>-<v>"
}

// components are the rows of the component table, with their label keys.
func (s Settings) components() []component {
	cs := make([]component, len(s.Options.Components))
	for i, c := range s.Options.Components {
		cs[i] = component{name: c.Name, labelKey: s.Options.AnnotationPrefix + c.VersionKey, base: c.Base}
	}
	return cs
}

// owner returns the component a ConfigMap name belongs to ("<base>" or "<base>-<v>"); ok is false
// for any other ConfigMap. mutate.Options.Validate guarantees the bases do not overlap.
func (s Settings) owner(name string) (c component, ok bool) {
	for _, c := range s.components() {
		if name == c.base || strings.HasPrefix(name, c.base+"-") {
			return c, true
		}
	}
	return component{}, false
}
