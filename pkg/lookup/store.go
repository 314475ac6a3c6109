package lookup

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// synced is closed by the first Replace: a Reflector calls Replace once its initial list (or
// watch-list stream) is complete, which is what an informer's HasSynced means too.
type synced struct {
	once sync.Once
	ch   chan struct{}
}

func newSynced() synced { return synced{ch: make(chan struct{})} }

func (s *synced) done() { s.once.Do(func() { close(s.ch) }) }

func (s *synced) hasSynced() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

// fields are what the stores read of an object.
type fields struct {
	name, namespace     string
	labels, annotations map[string]string
}

// objectFields reads what a Reflector (or a DeltaFIFO) hands a store: an object, a compact entry
// of the watch-list buffer, or the tombstone of an object whose deletion was missed between two
// lists.
func objectFields(obj any) (fields, error) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if c, ok := obj.(*compact); ok {
		return fields(*c), nil
	}
	m, err := apimeta.Accessor(obj)
	if err != nil {
		return fields{}, fmt.Errorf("lookup store: %T is not an object: %w", obj, err)
	}
	return fields{m.GetName(), m.GetNamespace(), m.GetLabels(), m.GetAnnotations()}, nil
}

// pin is the set of a Namespace's annotations under the prefix. Equal sets are interned: ten
// thousand namespaces pinned to v2 share one map, and NamespaceAnnotations hands it out without
// copying (callers only read it, as with the controller-runtime cache's UnsafeDisableDeepCopy).
type pin struct {
	key  string
	ann  map[string]string
	refs int
}

// NamespaceStore is a client-go ReflectorStore over Namespaces that keeps, per Namespace, its name
// and its annotations under the prefix (nil for most). It keeps every name so that "found" means
// what it meant with the informer cache: the Namespace exists (as far as the watch has told us).
type NamespaceStore struct {
	prefix string
	synced synced

	mu    sync.RWMutex
	names map[string]*pin
	pins  map[string]*pin

	bufMu sync.Mutex
	buf   map[string]map[string]string // see buffered
}

// NewNamespaceStore returns an empty store keeping the annotations under prefix.
func NewNamespaceStore(prefix string) *NamespaceStore {
	return &NamespaceStore{prefix: prefix, synced: newSynced(), names: map[string]*pin{}, pins: map[string]*pin{}}
}

// pinKey returns the interning key of the annotations under the prefix ("" when there are none).
func (s *NamespaceStore) pinKey(all map[string]string) string {
	var keys []string
	for k := range all {
		if strings.HasPrefix(k, s.prefix) {
			keys = append(keys, k)
		}
	}
	if keys == nil {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := all[k]
		// Length-prefixed, so no key or value content can make two sets collide.
		b.WriteString(strconv.Itoa(len(k)) + ":" + k + strconv.Itoa(len(v)) + ":" + v)
	}
	return b.String()
}

// pinMap returns a copy of the annotations under the prefix.
func (s *NamespaceStore) pinMap(all map[string]string) map[string]string {
	ann := map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, s.prefix) {
			ann[strings.Clone(k)] = strings.Clone(v)
		}
	}
	return ann
}

// buffered returns the annotations under the prefix for the watch-list buffer and listed pages:
// one map per distinct pin (nil for none), shared and never modified, so a buffer of 100k pinned
// Namespaces does not hold 100k maps. The set is dropped at every Replace.
func (s *NamespaceStore) buffered(all map[string]string) map[string]string {
	key := s.pinKey(all)
	if key == "" {
		return nil
	}
	s.bufMu.Lock()
	defer s.bufMu.Unlock()
	ann, ok := s.buf[key]
	if !ok {
		if s.buf == nil {
			s.buf = map[string]map[string]string{}
		}
		ann = s.pinMap(all)
		s.buf[key] = ann
	}
	return ann
}

// intern returns the shared pin for the annotations under the prefix of all (nil when there are
// none), counting one more reference; s.mu is held.
func (s *NamespaceStore) intern(all map[string]string) *pin {
	key := s.pinKey(all)
	if key == "" {
		return nil
	}
	p, ok := s.pins[key]
	if !ok {
		p = &pin{key: key, ann: s.pinMap(all)}
		s.pins[key] = p
	}
	p.refs++
	return p
}

// release drops one reference to p; s.mu is held.
func (s *NamespaceStore) release(p *pin) {
	if p == nil {
		return
	}
	if p.refs--; p.refs == 0 {
		delete(s.pins, p.key)
	}
}

// set records name with its annotations; s.mu is held.
func (s *NamespaceStore) set(name string, all map[string]string) {
	p := s.intern(all)
	old, had := s.names[name]
	if !had {
		name = strings.Clone(name) // never pin the buffer the object was decoded from
	}
	s.names[name] = p
	s.release(old)
}

// Add implements cache.ReflectorStore.
func (s *NamespaceStore) Add(obj any) error {
	f, err := objectFields(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(f.name, f.annotations)
	return nil
}

// addIfAbsent stores Namespace name with the annotations all (of which it keeps those under the
// prefix) unless the store holds it already, and returns what the store holds for it. A read
// outside the watch (readthrough.go) may be older than what the watch delivered meanwhile: the
// watch's entry wins. (A Namespace deleted between the read and this call stays until the next
// relist; it can hold no Pods.)
func (s *NamespaceStore) addIfAbsent(name string, all map[string]string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.names[name]
	if !ok {
		s.set(name, all)
		p = s.names[name]
	}
	if p == nil {
		return nil, ok
	}
	return p.ann, ok
}

// Update implements cache.ReflectorStore.
func (s *NamespaceStore) Update(obj any) error { return s.Add(obj) }

// Delete implements cache.ReflectorStore.
func (s *NamespaceStore) Delete(obj any) error {
	f, err := objectFields(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.names[f.name]; ok {
		delete(s.names, f.name)
		s.release(p)
	}
	return nil
}

// Replace implements cache.ReflectorStore: the store becomes list, and is synced from then on.
func (s *NamespaceStore) Replace(list []any, _ string) error {
	for _, obj := range list {
		if _, err := objectFields(obj); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.names, s.pins = make(map[string]*pin, len(list)), map[string]*pin{}
	for _, obj := range list {
		f, _ := objectFields(obj)
		s.set(f.name, f.annotations)
	}
	s.mu.Unlock()
	s.bufMu.Lock()
	s.buf = nil
	s.bufMu.Unlock()
	s.synced.done()
	return nil
}

// Resync implements cache.ReflectorStore; there is nothing to resync.
func (s *NamespaceStore) Resync() error { return nil }

// Transformer implements cache.TransformingStore: the Reflector's watch-list stream buffers
// every object of the initial list in a temporary store until the list is complete; this keeps
// that buffer to a compact entry per Namespace instead of its metadata.
func (s *NamespaceStore) Transformer() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return obj, nil
		}
		return &compact{name: strings.Clone(m.Name), annotations: s.buffered(m.Annotations)}, nil
	}
}

// trim cuts a listed Namespace down to its name and prefixed annotations, in place.
func (s *NamespaceStore) trim(m *metav1.PartialObjectMetadata) bool {
	m.ObjectMeta = metav1.ObjectMeta{Name: strings.Clone(m.Name), ResourceVersion: strings.Clone(m.ResourceVersion), Annotations: s.buffered(m.Annotations)}
	return true
}

// HasSynced reports whether the initial list has been stored.
func (s *NamespaceStore) HasSynced() bool { return s.synced.hasSynced() }

// Annotations returns the annotations under the prefix of Namespace name (nil when it has none,
// a map shared with other callers that must not be modified), and whether the Namespace exists.
func (s *NamespaceStore) Annotations(name string) (map[string]string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.names[name]
	if p == nil {
		return nil, ok
	}
	return p.ann, true
}

// Len returns the number of Namespaces stored.
func (s *NamespaceStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.names)
}

// compact is what the Transformers leave of an object in the Reflector's watch-list buffer: the
// key (name, namespace) and what a store's Add reads. It is a metav1.ObjectMetaAccessor, so the
// buffer's key function and the stores read it like an object.
type compact struct {
	name, namespace     string
	labels, annotations map[string]string
}

// GetObjectMeta implements metav1.ObjectMetaAccessor.
func (c *compact) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: c.name, Namespace: c.namespace, Labels: c.labels, Annotations: c.annotations}
}

// notOurs stands for every ConfigMap that is not ours in the watch-list buffer: one key ("") for
// all of them. The store ignores it like any ConfigMap not ours.
var notOurs = &compact{}

var (
	_ metav1.ObjectMetaAccessor    = (*compact)(nil)
	_ toolscache.TransformingStore = (*NamespaceStore)(nil)
	_ toolscache.TransformingStore = (*ConfigMapStore)(nil)
)
