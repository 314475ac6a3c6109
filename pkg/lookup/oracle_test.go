package lookup

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// This file is the oracle of the stores (test-only, so none of it is in the binary): the
// controller-runtime metadata caches with trimming transforms the server used before Caches.
// TestStoresAgreeWithControllerRuntimeCache holds the stores to their answers.

// Objects are the metadata-only types the caches watch.
func namespaceMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

func configMapMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	return m
}

// Objects returns fresh instances of the watched types, for registering informers at start.
func Objects() []client.Object { return []client.Object{namespaceMeta(), configMapMeta()} }

// CacheOptions returns the controller-runtime cache options for the two metadata informers.
func (s Settings) CacheOptions() cache.Options {
	return cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			// The handler only reads; skipping the deep copy on every Get keeps the admission path
			// allocation-free on the cache side.
			namespaceMeta(): {Transform: s.trimNamespace, UnsafeDisableDeepCopy: ptrTrue()},
			configMapMeta(): {Transform: s.trimConfigMap, UnsafeDisableDeepCopy: ptrTrue()},
		},
	}
}

func ptrTrue() *bool { b := true; return &b }

// trimNamespace keeps a Namespace's identity and its prefixed annotations.
func (s Settings) trimNamespace(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil // tombstones and the like pass through
	}
	var ann map[string]string
	for k, v := range m.Annotations {
		if strings.HasPrefix(k, s.AnnotationPrefix) {
			if ann == nil {
				ann = map[string]string{}
			}
			ann[k] = v
		}
	}
	m.ObjectMeta = trimmed(m.ObjectMeta)
	m.Annotations = ann
	return m, nil
}

// trimConfigMap keeps a ConfigMap's identity, and its version label when it is one of ours.
func (s Settings) trimConfigMap(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	v, has := m.Labels[s.VersionLabel]
	m.ObjectMeta = trimmed(m.ObjectMeta)
	if has && s.Ours(m.Namespace, m.Name) {
		m.Labels = map[string]string{s.VersionLabel: v}
	}
	return m, nil
}

func trimmed(om metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: om.Name, Namespace: om.Namespace, UID: om.UID, ResourceVersion: om.ResourceVersion}
}

// Lookup reads controller-runtime caches built with CacheOptions. It implements
// mutate.ConfigMapLookup.
type Lookup struct {
	Reader   client.Reader
	Settings Settings
}

// Version implements mutate.ConfigMapLookup. A cache error other than not-found (which cannot
// happen once synced) is treated as "exists, version unknown": the volume is optional anyway, and
// an admission decision must not hinge on a cache hiccup.
func (l Lookup) Version(namespace, name string) (string, bool) {
	m := configMapMeta()
	if err := l.Reader.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, m); err != nil {
		return "", !apierrors.IsNotFound(err)
	}
	return m.Labels[l.Settings.VersionLabel], true
}

// NamespaceAnnotations returns the prefixed annotations of a Namespace; found is false when the
// Namespace is not in the cache (yet).
func (l Lookup) NamespaceAnnotations(ctx context.Context, name string) (ann map[string]string, found bool, err error) {
	m := namespaceMeta()
	if err := l.Reader.Get(ctx, client.ObjectKey{Name: name}, m); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("reading namespace %q from the cache: %w", name, err)
	}
	return m.Annotations, true, nil
}

var _ toolscache.TransformFunc = Settings{}.trimNamespace
