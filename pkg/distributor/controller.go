package distributor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// DefaultResync is the default period of the full resync.
const DefaultResync = 10 * time.Minute

// writers bounds the writes in flight; the client's rate limiter bounds their rate.
const writers = 8

// FieldManager names the distributor in the copies' managedFields.
const FieldManager = "tilt-lib-injector-distribute"

// Options configure a Controller.
type Options struct {
	Settings distribute.Settings
	// Resync is the period of the full resync (> 0).
	Resync   time.Duration
	Log      logr.Logger
	Metrics  *Metrics
	Recorder record.EventRecorder
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Controller keeps the copies. Start it once.
type Controller struct {
	o      Options
	client kubernetes.Interface
	queue  workqueue.TypedRateLimitingInterface[string]

	sources, copies listersv1.ConfigMapLister
	namespaces      listersv1.NamespaceLister

	resyncDue atomic.Bool
	mu        sync.Mutex
	clashes   map[[2]string]*corev1.ConfigMap // unmanaged same-named ConfigMaps met on create
	reported  map[string]string               // event identity -> last message, so a pass repeats none
}

// New returns a controller writing through client.
func New(client kubernetes.Interface, o Options) *Controller {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Controller{o: o, client: client, clashes: map[[2]string]*corev1.ConfigMap{}, reported: map[string]string{}}
}

// NeedLeaderElection: only the leader runs the controller (controller-runtime's Runnable).
func (c *Controller) NeedLeaderElection() bool { return true }

const passKey = "pass"

// Start runs the informers and the passes until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	s := c.o.Settings
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "distribute"})
	defer c.queue.ShutDown()
	trim := func(obj any) (any, error) {
		if m, ok := obj.(metav1.Object); ok {
			m.SetManagedFields(nil) // never read; the largest part of a small object
		}
		return obj, nil
	}
	srcF := informers.NewSharedInformerFactoryWithOptions(c.client, 0, informers.WithNamespace(s.SourceNamespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = s.Prefix + distribute.KeyDistribute + "=true" }),
		informers.WithTransform(trim))
	copyF := informers.NewSharedInformerFactoryWithOptions(c.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = distribute.ManagedByLabel + "=" + distribute.ManagedBy
		}), informers.WithTransform(trim))
	nsF := informers.NewSharedInformerFactoryWithOptions(c.client, 0, informers.WithTransform(trim))

	enqueue := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.queue.Add(passKey) },
		UpdateFunc: func(any, any) { c.queue.Add(passKey) },
		DeleteFunc: func(any) { c.queue.Add(passKey) },
	}
	for _, inf := range []cache.SharedIndexInformer{
		srcF.Core().V1().ConfigMaps().Informer(), copyF.Core().V1().ConfigMaps().Informer(), nsF.Core().V1().Namespaces().Informer(),
	} {
		if _, err := inf.AddEventHandler(enqueue); err != nil {
			return fmt.Errorf("informer handler: %w", err)
		}
	}
	c.sources = srcF.Core().V1().ConfigMaps().Lister()
	c.copies = copyF.Core().V1().ConfigMaps().Lister()
	c.namespaces = nsF.Core().V1().Namespaces().Lister()
	for _, f := range []informers.SharedInformerFactory{srcF, copyF, nsF} {
		f.Start(ctx.Done())
		defer f.Shutdown()
	}
	for _, f := range []informers.SharedInformerFactory{srcF, copyF, nsF} {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return fmt.Errorf("cache of %v did not sync: %w", typ, ctx.Err())
			}
		}
	}
	c.o.Log.Info("caches synced; distributing", "source", s.SourceNamespace)

	go func() {
		t := time.NewTicker(c.o.Resync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.resyncDue.Store(true)
				c.queue.Add(passKey)
			}
		}
	}()
	go func() { <-ctx.Done(); c.queue.ShutDown() }()
	c.queue.Add(passKey)
	for c.work(ctx) {
	}
	return nil
}

func (c *Controller) work(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if c.resyncDue.Swap(false) {
		c.mu.Lock()
		clear(c.clashes) // re-met on create if still there
		c.mu.Unlock()
	}
	next, err := c.pass(ctx, c.snapshot())
	switch {
	case ctx.Err() != nil:
	case err != nil:
		c.o.Log.Error(err, "pass failed; retrying")
		c.queue.AddRateLimited(key)
	default:
		c.queue.Forget(key)
		if !next.IsZero() {
			c.queue.AddAfter(key, next.Sub(c.o.Now()))
		}
	}
	return true
}

// snapshot is the Input as the caches hold it now, plus the clashes met.
func (c *Controller) snapshot() distribute.Input {
	var in distribute.Input
	src, _ := c.sources.ConfigMaps(c.o.Settings.SourceNamespace).List(labels.Everything())
	in.Sources = src
	in.Copies, _ = c.copies.List(labels.Everything())
	nss, _ := c.namespaces.List(labels.Everything())
	for _, n := range nss {
		in.Namespaces = append(in.Namespaces, distribute.Namespace{Name: n.Name, Labels: n.Labels})
	}
	c.mu.Lock()
	for _, cm := range c.clashes {
		in.Copies = append(in.Copies, cm)
	}
	c.mu.Unlock()
	return in
}

// pass plans over in and writes what differs. It returns when the next orphan's grace ends (zero:
// none pending) and every write error, joined.
func (c *Controller) pass(ctx context.Context, in distribute.Input) (time.Time, error) {
	in.Now = c.o.Now()
	acts, err := c.plan(ctx, in)
	errs := append([]error{err}, c.apply(ctx, acts)...)
	c.o.Metrics.Passes.Inc()
	states := map[string]float64{}
	var next time.Time
	// A mounted orphan is looked at again after min(grace, resync): nothing else announces that
	// its last Pod went (the controller does not watch Pods).
	recheck := in.Now.Add(min(c.o.Settings.Grace, c.o.Resync))
	for _, a := range acts {
		states[a.Kind.State()]++
		until := a.Until
		if a.Kind == distribute.KeepMounted {
			until = recheck
		} else if a.Kind != distribute.KeepOrphan {
			continue
		}
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	for _, st := range distribute.States {
		c.o.Metrics.Copies.WithLabelValues(st).Set(states[st])
	}
	err = errors.Join(errs...)
	if err == nil {
		c.o.Metrics.LastSuccess.Set(float64(c.o.Now().UnixNano()) / 1e9)
	}
	return next, err
}

// plan is Plan over in at the current time, after a fresh list of the Pods of every namespace
// where an orphan's grace is over. A namespace whose list failed is left out of Mounts, so
// nothing there is deleted; the error is returned.
func (c *Controller) plan(ctx context.Context, in distribute.Input) ([]distribute.Action, error) {
	s := c.o.Settings
	if in.Now.IsZero() {
		in.Now = c.o.Now()
	}
	var errs []error
	if nss := distribute.NeedsPods(s, in); len(nss) > 0 {
		in.Mounts = map[string]map[string]int{}
		for _, ns := range nss {
			// A List with no resourceVersion is served from etcd (a quorum read), never a cache:
			// a Pod created a moment ago still counts.
			pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				c.o.Metrics.Errors.WithLabelValues(errListPods).Inc()
				errs = append(errs, fmt.Errorf("listing the Pods of %s: %w", ns, err))
				continue
			}
			in.Mounts[ns] = distribute.CountMounts(pods.Items)
		}
	}
	return distribute.Plan(s, in), errors.Join(errs...)
}
