package lookup

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// script is one resource's API server as a Reflector sees it: a list (the current state) and a
// watch per Watch call, to which the test sends the events.
type script struct {
	mu       sync.Mutex
	state    map[string]*metav1.PartialObjectMetadata // "namespace/name" -> object
	rv       int
	watchers chan *watch.FakeWatcher
}

func newScript() *script {
	return &script{state: map[string]*metav1.PartialObjectMetadata{}, watchers: make(chan *watch.FakeWatcher, 4)}
}

func (s *script) list(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &metav1.PartialObjectMetadataList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(s.rv)}}
	for _, k := range slices.Sorted(maps.Keys(s.state)) {
		l.Items = append(l.Items, *s.state[k].DeepCopy())
	}
	return l, nil
}

func (s *script) watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	w := watch.NewFakeWithChanSize(1000, false)
	s.watchers <- w
	return w, nil
}

// source is what a Reflector lists and watches: a script, or generated objects.
type source interface {
	list(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
	watch(context.Context, metav1.ListOptions) (watch.Interface, error)
}

// noWatchList makes a Reflector list then watch (the scripted server has no watch-list stream).
type noWatchList struct{ *toolscache.ListWatch }

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }

// apply records ev in the state; the caller sends it to the watchers.
func (s *script) apply(typ watch.EventType, obj *metav1.PartialObjectMetadata) watch.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	obj = obj.DeepCopy()
	obj.ResourceVersion = strconv.Itoa(s.rv)
	key := obj.Namespace + "/" + obj.Name
	if typ == watch.Deleted {
		delete(s.state, key)
	} else {
		s.state[key] = obj
	}
	return watch.Event{Type: typ, Object: obj.DeepCopy()}
}

const marker = "zz-marker"

var universeNs = []string{"team-a", "team-b", "team-c", "team-d", "team-e", "team-f", marker}

var universeCm = []string{"tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates", "tilt-templates-v2",
	"tilt-library", "kube-root-ca.crt", "app-config"}

func randomNamespace(r *rand.Rand, name string) *metav1.PartialObjectMetadata {
	ann := map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
	for _, k := range []string{"version", "templates-version", "allow-pod-override", "other"} {
		switch r.IntN(4) {
		case 0:
			ann[settings.AnnotationPrefix+k] = []string{"v2", "v3", "stable", "default"}[r.IntN(4)]
		case 1:
			ann[settings.AnnotationPrefix+k] = ""
		}
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann,
		Labels: map[string]string{"team": name}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
}

func randomConfigMap(r *rand.Rand, ns, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
		Annotations: map[string]string{"big": "annotation"}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "argocd"}}}}
	if r.IntN(3) > 0 {
		m.Labels = map[string]string{settings.VersionLabel: []string{"1.4.0", "2.0.1", "2.0.2", ""}[r.IntN(4)], "app": "x"}
	}
	return m
}

// oracle is the controller-runtime cache of the old server, with its transforms, whose informers
// list and watch the scripts instead of an API server.
func oracle(t testing.TB, ctx context.Context, ns, cm source) *Lookup {
	t.Helper()
	mapper := apimeta.NewDefaultRESTMapper(nil)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("Namespace"), apimeta.RESTScopeRoot)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("ConfigMap"), apimeta.RESTScopeNamespace)
	opts := settings.CacheOptions()
	opts.Scheme, opts.Mapper, opts.HTTPClient = clientgoscheme.Scheme, mapper, http.DefaultClient
	opts.NewInformer = func(_ toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, idx toolscache.Indexers) toolscache.SharedIndexInformer {
		var s source = cm
		if obj.(*metav1.PartialObjectMetadata).Kind == "Namespace" {
			s = ns
		}
		lw := noWatchList{&toolscache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return s.list(ctx, o)
			},
			WatchFuncWithContext: s.watch,
		}}
		return toolscache.NewSharedIndexInformer(lw, obj, resync, idx)
	}
	c, err := cache.New(&rest.Config{Host: "http://127.0.0.1:1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range Objects() {
		if _, err := c.GetInformer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("oracle cache never synced")
	}
	return &Lookup{Reader: c, Settings: settings}
}

// ours is the stores of the new server, each fed by a client-go Reflector through the same
// trimming list as in production.
func ours(t testing.TB, ctx context.Context, ns, cm source) *Caches {
	t.Helper()
	c := NewCaches(settings, nil, nil)
	for _, f := range []struct {
		src   source
		store trimmingStore
	}{{ns, c.Namespaces}, {cm, c.ConfigMaps}} {
		lw := noWatchList{trimmingListWatch(f.src.list, f.src.watch, f.store.trim)}
		go newReflector("differential", lw, f.store).RunWithContext(ctx)
	}
	if err := waitSynced(ctx, c.HasSynced); err != nil {
		t.Fatal("our stores never synced")
	}
	return c
}

// answers is everything the handler, mutate, the adoption gauges and the targets check read.
type answers struct {
	Namespaces map[string]string // name -> found and annotations
	Lookups    map[string]string // namespace/name of ours -> exists and version
	Ours       []string          // every ConfigMap of ours with its version (adoption, targets)
}

func read(t *testing.T, ns func(string) (map[string]string, bool, error), cm func(string, string) (string, bool), list func() []string) answers {
	t.Helper()
	a := answers{Namespaces: map[string]string{}, Lookups: map[string]string{}}
	for _, n := range append(slices.Clone(universeNs), "never-created") {
		ann, found, err := ns(n)
		if err != nil {
			t.Fatal(err)
		}
		a.Namespaces[n] = fmt.Sprint(found, ann)
		for _, name := range universeCm {
			if settings.Ours(n, name) {
				v, ok := cm(n, name)
				a.Lookups[n+"/"+name] = fmt.Sprint(ok, v)
			}
		}
	}
	a.Ours = list()
	slices.Sort(a.Ours)
	return a
}

func (c *Caches) answers(t *testing.T) answers {
	return read(t, func(n string) (map[string]string, bool, error) {
		return c.NamespaceAnnotations(context.Background(), n)
	},
		c.Version, func() []string {
			var out []string
			c.ConfigMaps.Range(func(k ConfigMapKey, v string) { out = append(out, k.Namespace+"/"+k.Name+"="+v) })
			return out
		})
}

func (l *Lookup) answers(t *testing.T) answers {
	return read(t, func(n string) (map[string]string, bool, error) {
		return l.NamespaceAnnotations(context.Background(), n)
	},
		l.Version, func() []string {
			list := &metav1.PartialObjectMetadataList{}
			list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
			if err := l.Reader.List(context.Background(), list); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range list.Items {
				if settings.Ours(m.Namespace, m.Name) { // adoption and the targets check read only ours
					out = append(out, m.Namespace+"/"+m.Name+"="+m.Labels[settings.VersionLabel])
				}
			}
			return out
		})
}

// TestStoresAgreeWithControllerRuntimeCache feeds the same random event sequences (adds,
// updates, deletes, Modified for an unknown object, relists after an expired watch that drop
// objects the watch never reported deleted, i.e. tombstones on the informer side) to the old
// controller-runtime cache and to our stores, and requires identical answers to every read after
// every step.
func TestStoresAgreeWithControllerRuntimeCache(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			differential(t, rand.New(rand.NewPCG(seed, 7)))
		})
	}
}

func differential(t *testing.T, r *rand.Rand) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	oldNs, oldCm, newNs, newCm := newScript(), newScript(), newScript(), newScript()
	// Both start from the same initial list.
	initial := rand.New(rand.NewPCG(r.Uint64(), 1))
	for _, n := range universeNs[:4] {
		ev := randomNamespace(initial, n)
		oldNs.apply(watch.Added, ev)
		newNs.apply(watch.Added, ev)
		for _, name := range universeCm[:4] {
			cm := randomConfigMap(initial, n, name)
			oldCm.apply(watch.Added, cm)
			newCm.apply(watch.Added, cm)
		}
	}
	old, cur := oracle(t, ctx, oldNs, oldCm), ours(t, ctx, newNs, newCm)
	watchers := map[*script]*watch.FakeWatcher{}
	next := func(s *script) *watch.FakeWatcher {
		select {
		case w := <-s.watchers:
			return w
		case <-time.After(30 * time.Second): // a relist waits out the Reflector's backoff
			t.Fatal("no watch started")
			return nil
		}
	}
	for _, s := range []*script{oldNs, oldCm, newNs, newCm} {
		watchers[s] = next(s)
	}
	send := func(o, n *script, typ watch.EventType, obj *metav1.PartialObjectMetadata) {
		for _, s := range []*script{o, n} {
			ev := s.apply(typ, obj)
			watchers[s].Action(ev.Type, ev.Object)
		}
	}
	for step := range 20 {
		relist := step == 9 // one per seed: each waits out the Reflectors' backoff, seconds
		for range 1 + r.IntN(6) {
			isNs := r.IntN(2) == 0
			ns := universeNs[r.IntN(len(universeNs)-1)]
			o, n, key := oldNs, newNs, "/"+ns
			obj := randomNamespace(r, ns)
			if !isNs {
				name := universeCm[r.IntN(len(universeCm))]
				o, n, key = oldCm, newCm, ns+"/"+name
				obj = randomConfigMap(r, ns, name)
			}
			o.mu.Lock()
			_, exists := o.state[key]
			o.mu.Unlock()
			typ := watch.Added
			switch {
			case exists && r.IntN(3) == 0:
				typ = watch.Deleted
			case exists || r.IntN(8) == 0: // now and then a Modified the store never saw Added
				typ = watch.Modified
			}
			if relist { // missed by the watch: only the next list tells
				o.apply(typ, obj)
				n.apply(typ, obj)
				continue
			}
			send(o, n, typ, obj)
		}
		mark := fmt.Sprint(step)
		markNs := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: marker, Annotations: map[string]string{settings.AnnotationPrefix + "step": mark}}}
		markCm := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-marker", Namespace: marker, Labels: map[string]string{settings.VersionLabel: mark}}}
		if relist {
			for _, s := range []*script{oldNs, newNs} {
				s.apply(watch.Modified, markNs)
			}
			for _, s := range []*script{oldCm, newCm} {
				s.apply(watch.Modified, markCm)
			}
			expired := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone, Reason: metav1.StatusReasonExpired}
			for _, s := range []*script{oldNs, oldCm, newNs, newCm} {
				watchers[s].Error(expired)
				watchers[s] = next(s)
			}
		} else {
			send(oldNs, newNs, watch.Modified, markNs)
			send(oldCm, newCm, watch.Modified, markCm)
		}
		caughtUp := func(a answers) bool {
			return a.Namespaces[marker] == fmt.Sprint(true, markNs.Annotations) && slices.Contains(a.Ours, marker+"/tilt-lib-marker="+mark)
		}
		var o, n answers
		if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			o, n = old.answers(t), cur.answers(t)
			return caughtUp(o) && caughtUp(n), nil
		}); err != nil {
			t.Fatalf("step %d: not caught up:\nold %+v\nnew %+v", step, o, n)
		}
		// The marker was the last event: nothing moves any more, and both are read whole.
		o, n = old.answers(t), cur.answers(t)
		if !reflect.DeepEqual(o, n) {
			t.Fatalf("step %d (relist %v): answers differ:\nold %+v\nnew %+v", step, relist, o, n)
		}
	}
}

// TestMutateAsksOnlyForOurs pins what lets the ConfigMap store drop every other ConfigMap: every
// name mutate looks up is "<base>" or "<base>-<v>", whatever the annotations say.
func TestMutateAsksOnlyForOurs(t *testing.T) {
	o := mutate.DefaultOptions()
	o.Aliases = map[string]string{"stable": "v2"}
	s := Settings{Bases: o.Bases()}
	asked := 0
	lookup := lookupFunc(func(_, name string) (string, bool) {
		asked++
		if !s.Ours("team-a", name) {
			t.Errorf("mutate looked up %q, not one of ours", name)
		}
		return "", false
	})
	values := []string{"", "default", "stable", "v2", "none", "../x", "V2", "a-b", "tilt-lib", "x.y"}
	for _, ns := range values {
		for _, pod := range values {
			ann := func(v string) map[string]string {
				return map[string]string{o.AnnotationPrefix + mutate.KeyVersion: v, o.AnnotationPrefix + mutate.KeyTemplatesVersion: v}
			}
			mutate.Mutate(o, mutate.Request{Namespace: "team-a", NamespaceAnnotations: ann(ns), ConfigMaps: lookup,
				Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ws", Annotations: ann(pod)},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dev"}}}}})
		}
	}
	if asked == 0 {
		t.Fatal("mutate never looked a ConfigMap up")
	}
}

type lookupFunc func(namespace, name string) (string, bool)

func (f lookupFunc) Version(namespace, name string) (string, bool) { return f(namespace, name) }

var _ client.Reader = fakeReader{}
