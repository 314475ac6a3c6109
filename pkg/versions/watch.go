package versions

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
)

// Change is one state of the document as the watch delivered it, with what Live made of it.
type Change struct {
	// ConfigMap is the object (nil when absent or deleted).
	ConfigMap *corev1.ConfigMap
	Outcome   Outcome
	// Err lists every error of an invalid document (Outcome KeptInvalid).
	Err error
	// Serving is the snapshot in force after the change.
	Serving *Snapshot
}

// NewWatcher returns a Watcher of the ConfigMap namespace/name for live.
func NewWatcher(live *Live, client kubernetes.Interface, namespace, name string, report func(Change)) *Watcher {
	return &Watcher{Live: live, Client: client, Namespace: namespace, Name: name, Report: report, synced: make(chan struct{})}
}

// Watcher (made by NewWatcher) keeps a Live current with one ConfigMap: a client-go Reflector lists and watches the
// namespace with a field selector on the name, so the API server sends that object alone. Its
// first list is one Replace: present or absent, the document's first state is known at once (an
// informer's handlers may still be running when it reports synced). Report, when set, is called
// for every change, in order, from one goroutine.
type Watcher struct {
	Live            *Live
	Client          kubernetes.Interface
	Namespace, Name string
	Report          func(Change)

	synced chan struct{}
	once   sync.Once
}

// Start runs the watch until ctx is done. It implements manager.Runnable.
func (w *Watcher) Start(ctx context.Context) error {
	lw := toolscache.NewListWatchFromClient(w.Client.CoreV1().RESTClient(), "configmaps", w.Namespace,
		fields.OneTermEqualSelector("metadata.name", w.Name))
	r := toolscache.NewReflectorWithOptions(lw, &corev1.ConfigMap{}, (*documentStore)(w),
		toolscache.ReflectorOptions{Name: "tilt-lib-injector versions " + w.Namespace + "/" + w.Name})
	r.RunWithContext(ctx)
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves reviews.
func (w *Watcher) NeedLeaderElection() bool { return false }

// HasSynced reports whether the document's first state is known (valid or not: Live.Ready says
// whether it may be served).
func (w *Watcher) HasSynced() bool {
	select {
	case <-w.synced:
		return true
	default:
		return false
	}
}

// apply hands one state of the document to Live and reports it.
func (w *Watcher) apply(cm *corev1.ConfigMap) {
	var c Change
	if cm == nil {
		c.Outcome, c.Err = w.Live.Apply(nil, false)
	} else {
		data, present := cm.Data[Key]
		if !present {
			c.Outcome, c.Err = w.Live.refuse(fmt.Errorf("%w: the ConfigMap has no key %s", ErrInvalid, Key))
		} else {
			c.Outcome, c.Err = w.Live.Apply([]byte(data), true)
		}
		c.ConfigMap = cm
	}
	c.Serving = w.Live.Load()
	if w.Report != nil {
		w.Report(c)
	}
}

// documentStore is the Reflector's store: it holds nothing, it hands every state to Live.
type documentStore Watcher

func (s *documentStore) w() *Watcher { return (*Watcher)(s) }

func configMap(obj any) *corev1.ConfigMap {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	cm, _ := obj.(*corev1.ConfigMap)
	return cm
}

// Add implements cache.ReflectorStore.
func (s *documentStore) Add(obj any) error { s.w().apply(configMap(obj)); return nil }

// Update implements cache.ReflectorStore.
func (s *documentStore) Update(obj any) error { s.w().apply(configMap(obj)); return nil }

// Delete implements cache.ReflectorStore.
func (s *documentStore) Delete(any) error { s.w().apply(nil); return nil }

// Replace implements cache.ReflectorStore: the list holds the one ConfigMap or nothing.
func (s *documentStore) Replace(list []any, _ string) error {
	var cm *corev1.ConfigMap
	for _, o := range list {
		if c := configMap(o); c != nil && c.Name == s.Name {
			cm = c
		}
	}
	s.w().apply(cm)
	s.w().once.Do(func() { close(s.w().synced) })
	return nil
}

// Resync implements cache.ReflectorStore; there is nothing to resync.
func (s *documentStore) Resync() error { return nil }

var _ toolscache.ReflectorStore = (*documentStore)(nil)
