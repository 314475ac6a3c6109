package lookup

import (
	"context"
	"strings"
	"sync"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// ConfigMapKey names one ConfigMap.
type ConfigMapKey struct{ Namespace, Name string }

// ConfigMapStore is a client-go ReflectorStore over ConfigMaps that keeps only ours ("<base>" and
// "<base>-<v>" for the configured bases, outside the injector's own namespace), each with its
// version label. Every other ConfigMap
// (kube-root-ca.crt in every namespace, the applications' own) is never retained.
type ConfigMapStore struct {
	settings Settings
	synced   synced

	mu    sync.RWMutex
	items map[ConfigMapKey]string
}

// NewConfigMapStore returns an empty store keeping the ConfigMaps that settings call ours.
func NewConfigMapStore(settings Settings) *ConfigMapStore {
	return &ConfigMapStore{settings: settings, synced: newSynced(), items: map[ConfigMapKey]string{}}
}

// entry returns the stored form of m, or ok false when it is not ours.
func (s *ConfigMapStore) entry(f fields) (k ConfigMapKey, version string, ok bool) {
	if !s.settings.Ours(f.namespace, f.name) {
		return ConfigMapKey{}, "", false
	}
	// Names and versions repeat across namespaces (tilt-lib-v2, 2.0.1): keep one copy of each.
	return ConfigMapKey{strings.Clone(f.namespace), unique.Make(f.name).Value()},
		unique.Make(f.labels[s.settings.VersionLabel]).Value(), true
}

// Add implements cache.ReflectorStore.
func (s *ConfigMapStore) Add(obj any) error {
	f, err := objectFields(obj)
	if err != nil {
		return err
	}
	k, v, ok := s.entry(f)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[k] = v
	return nil
}

// Update implements cache.ReflectorStore. A ConfigMap's name never changes, so neither does
// whether it is ours.
func (s *ConfigMapStore) Update(obj any) error { return s.Add(obj) }

// Delete implements cache.ReflectorStore.
func (s *ConfigMapStore) Delete(obj any) error {
	f, err := objectFields(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, ConfigMapKey{f.namespace, f.name})
	return nil
}

// Replace implements cache.ReflectorStore: the store becomes list, and is synced from then on.
func (s *ConfigMapStore) Replace(list []any, _ string) error {
	items := map[ConfigMapKey]string{}
	for _, obj := range list {
		f, err := objectFields(obj)
		if err != nil {
			return err
		}
		if k, v, ok := s.entry(f); ok {
			items[k] = v
		}
	}
	s.mu.Lock()
	s.items = items
	s.mu.Unlock()
	s.synced.done()
	return nil
}

// Resync implements cache.ReflectorStore; there is nothing to resync.
func (s *ConfigMapStore) Resync() error { return nil }

// Transformer implements cache.TransformingStore (see NamespaceStore.Transformer): ours become
// a compact entry with their version label; every other ConfigMap becomes one shared entry, so
// the watch-list buffer holds one for all of them.
func (s *ConfigMapStore) Transformer() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return obj, nil
		}
		if !s.trim(m) {
			return notOurs, nil
		}
		return &compact{name: m.Name, namespace: m.Namespace, labels: m.Labels}, nil
	}
}

// trim cuts a listed ConfigMap of ours down to its identity and version label, in place; it
// reports false, leaving m alone, for any other ConfigMap.
func (s *ConfigMapStore) trim(m *metav1.PartialObjectMetadata) bool {
	if !s.settings.Ours(m.Namespace, m.Name) {
		return false
	}
	var labels map[string]string
	if v, has := m.Labels[s.settings.VersionLabel]; has {
		labels = map[string]string{s.settings.VersionLabel: strings.Clone(v)}
	}
	m.ObjectMeta = metav1.ObjectMeta{Name: strings.Clone(m.Name), Namespace: strings.Clone(m.Namespace),
		ResourceVersion: strings.Clone(m.ResourceVersion), Labels: labels}
	return true
}

// HasSynced reports whether the initial list has been stored.
func (s *ConfigMapStore) HasSynced() bool { return s.synced.hasSynced() }

// WaitForSync blocks until the initial list has been stored (true) or ctx is done (false).
func (s *ConfigMapStore) WaitForSync(ctx context.Context) bool {
	select {
	case <-s.synced.ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// Get reports whether our ConfigMap k exists, and its version label ("" when absent).
func (s *ConfigMapStore) Get(k ConfigMapKey) (version string, exists bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	version, exists = s.items[k]
	return version, exists
}

// Range calls fn for each of our ConfigMaps, with its version label, in no particular order. fn
// must not call back into the store.
func (s *ConfigMapStore) Range(fn func(k ConfigMapKey, version string)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, v := range s.items {
		fn(k, v)
	}
}
