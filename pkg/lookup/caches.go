package lookup

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	toolscache "k8s.io/client-go/tools/cache"
)

var (
	namespacesResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	configMapsResource = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// Caches keeps the two stores current with client-go Reflectors (list, watch, relist on expiry,
// a short backoff: backoff.go) over the metadata client. It implements decide.Namespaces and mutate.ConfigMapLookup,
// and is a manager.Runnable.
type Caches struct {
	Namespaces *NamespaceStore
	ConfigMaps *ConfigMapStore
	client     metadata.Interface
	selector   string // of ConfigMaps, applied by the API server
	miss       *readThrough
}

// NewCaches returns the caches for settings, listing and watching through client. Nothing is
// listed before Start. A Namespace the store does not hold is read through client once
// (NamespaceAnnotations), each read counted by reads (nil: not counted). With a nil client (tests
// of the stores alone, fed by hand) a miss reads nothing and is "not found".
func NewCaches(settings Settings, client metadata.Interface, reads ReadCounter) *Caches {
	if reads == nil {
		reads = noCounter{}
	}
	get := func(context.Context, string) (map[string]string, bool, error) { return nil, false, nil }
	if client != nil {
		get = listNamespace(client)
	}
	ns := NewNamespaceStore(settings.AnnotationPrefix)
	return &Caches{
		Namespaces: ns,
		ConfigMaps: NewConfigMapStore(settings),
		client:     client,
		selector:   settings.ConfigMapSelector,
		miss:       newReadThrough(get, ns, reads, DefaultReadTimeout),
	}
}

type noCounter struct{}

func (noCounter) Read(string) {}

// Start runs both Reflectors until ctx is done. It implements manager.Runnable.
func (c *Caches) Start(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		reflector("namespaces", c.client, namespacesResource, "", c.Namespaces).RunWithContext(ctx)
	}()
	reflector("configmaps", c.client, configMapsResource, c.selector, c.ConfigMaps).RunWithContext(ctx)
	<-done
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves reviews.
func (c *Caches) NeedLeaderElection() bool { return false }

// HasSynced reports whether both stores hold their initial list.
func (c *Caches) HasSynced() bool { return c.Namespaces.HasSynced() && c.ConfigMaps.HasSynced() }

// Version implements mutate.ConfigMapLookup. Only our ConfigMaps are kept, and those are the only
// names mutate asks about (a candidate is always "<base>" or "<base>-<v>").
func (c *Caches) Version(namespace, name string) (string, bool) {
	return c.ConfigMaps.Get(ConfigMapKey{namespace, name})
}

// NamespaceAnnotations returns the prefixed annotations of a Namespace (shared: do not modify)
// and whether it exists. A Namespace the store holds is answered from memory (no API call); one
// it does not hold yet is read from the API server once, bounded by DefaultReadTimeout and ctx,
// and stored (readthrough.go). It fails only when that read fails or times out.
func (c *Caches) NamespaceAnnotations(ctx context.Context, name string) (map[string]string, bool, error) {
	return c.miss.annotations(ctx, name)
}

// trimmingStore is a store whose Reflector trims listed pages as they arrive.
type trimmingStore interface {
	toolscache.TransformingStore
	// trim cuts a listed object down to what the store reads, in place; false drops it.
	trim(*metav1.PartialObjectMetadata) bool
}

// reflector lists and watches resource through client into store, only objects matching the
// label selector ("" for all).
func reflector(name string, client metadata.Interface, resource schema.GroupVersionResource, selector string, store trimmingStore) *toolscache.Reflector {
	rc := client.Resource(resource)
	lw := trimmingListWatch(withSelector(selector, rc.List), withSelector(selector, rc.Watch), store.trim)
	return newReflector(name, toolscache.ToListWatcherWithWatchListSemantics(lw, client), store)
}

// withSelector makes every call of f ask the API server for the objects matching selector only:
// the others never reach the process (the list, the watch-list stream and the watch alike).
func withSelector[T any](selector string, f func(context.Context, metav1.ListOptions) (T, error)) func(context.Context, metav1.ListOptions) (T, error) {
	if selector == "" {
		return f
	}
	return func(ctx context.Context, opts metav1.ListOptions) (T, error) {
		opts.LabelSelector = selector
		return f(ctx, opts)
	}
}

// trimmingListWatch lists with list and watches with watch. Each listed page is trimmed as it
// arrives, and what trim drops (ConfigMaps not ours) is left out of the page: the Reflector's
// pager accumulates every page before the store sees any, and a relist of 100k Namespaces must
// not hold all their managedFields, nor 100k kube-root-ca.crt, at once.
func trimmingListWatch(list func(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error),
	watch toolscache.WatchFuncWithContext, trim func(*metav1.PartialObjectMetadata) bool) *toolscache.ListWatch {
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l, err := list(ctx, opts)
			if err != nil {
				return nil, err
			}
			kept := make([]metav1.PartialObjectMetadata, 0, len(l.Items)/8)
			for i := range l.Items {
				if trim(&l.Items[i]) {
					kept = append(kept, l.Items[i])
				}
			}
			l.Items = slices.Clip(kept)
			return l, nil
		},
		WatchFuncWithContext: watch,
	}
}
