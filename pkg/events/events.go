package events

import (
	"context"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Recorder is the subset of k8s.io/client-go/tools/events.EventRecorder the emitter uses
// (controller-runtime's manager.GetEventRecorder returns one).
type Recorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
}

// Causes of a dropped Event, the cause label of tiltlib_events_dropped_total.
const (
	// CauseQueueFull: the recording goroutine fell behind; Emit does not wait.
	CauseQueueFull = "queue_full"
	// CauseRateLimited: an Event with the same key was recorded less than Interval ago.
	CauseRateLimited = "rate_limited"
	// CauseOverBudget: Budget Events were recorded, across all keys, less than Interval ago.
	CauseOverBudget = "over_budget"
)

// Causes lists every cause, so a counter can start each series at zero.
var Causes = []string{CauseQueueFull, CauseRateLimited, CauseOverBudget}

// DropCounter counts dropped Events by cause (see pkg/metrics.NewEvents).
type DropCounter interface {
	Dropped(cause string)
}

// Emitter queues and rate-limits Events. Create it with New and run Start.
type Emitter struct {
	rec     Recorder
	queue   chan item
	now     func() time.Time
	limit   *limiter // owned by the Start goroutine, like budget
	budget  *budget
	dropped atomic.Int64
	counter DropCounter
}

type key struct {
	namespace, component string
	reason               mutate.Reason
}

type item struct {
	key
	message string
}

// DefaultBudget is the default Options.Budget: 60 Events per minute across the cluster, one a
// second on average, is far above what a healthy platform emits and far below what the Events
// API notices.
const DefaultBudget = 60

// Options tune an Emitter; zero values pick the defaults.
type Options struct {
	// Interval between two Events with the same key (default 1m).
	Interval time.Duration
	// QueueSize bounds the Events waiting to be recorded (default 256).
	QueueSize int
	// MaxKeys bounds the keys remembered for rate limiting (default 10,000). Beyond it the
	// oldest key is forgotten, so its next Event may come before Interval has passed.
	MaxKeys int
	// Budget bounds the Events recorded across all keys in any window of Interval (default
	// DefaultBudget): the keys come from the review, so without it a sender naming N namespaces
	// would get N Events per Interval.
	Budget int
	// Dropped, when set, counts every dropped Event by cause.
	Dropped DropCounter
	// Now is the clock (tests).
	Now func() time.Time
}

// New returns an Emitter recording through rec.
func New(rec Recorder, o Options) *Emitter {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 10000
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Emitter{rec: rec, queue: make(chan item, o.QueueSize), now: o.Now,
		limit: newLimiter(o.Interval, o.MaxKeys), budget: newBudget(o.Interval, o.Budget), counter: o.Dropped}
}

// Emit queues one Event per non-trivial finding. It never blocks: when the queue is full the
// finding is dropped (the warning and the metric still carry it). Messages are made valid Event
// notes here, so a queued item never holds more than MaxNoteBytes of the developer's input.
func (e *Emitter) Emit(namespace string, findings []mutate.Finding) {
	for _, f := range findings {
		if f.Reason == "" || f.Reason.Trivial() {
			continue
		}
		select {
		case e.queue <- item{key{namespace, f.Component, f.Reason}, note(f.Text())}:
		default:
			e.drop(CauseQueueFull)
		}
	}
}

// Dropped is the number of findings not turned into Events (queue full or rate-limited).
func (e *Emitter) Dropped() int64 { return e.dropped.Load() }

func (e *Emitter) drop(cause string) {
	e.dropped.Add(1)
	if e.counter != nil {
		e.counter.Dropped(cause)
	}
}

// Start records queued Events until ctx is done. It implements controller-runtime's Runnable.
func (e *Emitter) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case it := <-e.queue:
			e.record(it)
		}
	}
}

func (e *Emitter) record(it item) {
	now := e.now()
	if !e.limit.fresh(it.key, now) {
		e.drop(CauseRateLimited)
		return
	}
	// Over budget, the key is not remembered: it produced no Event, so its next finding may.
	if !e.budget.allow(now) {
		e.drop(CauseOverBudget)
		return
	}
	e.limit.remember(it.key, now)
	// A cluster-scoped Namespace reference with its own name as namespace puts the Event in the
	// Pod's namespace (events validation requires event.namespace == regarding.namespace).
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: it.namespace, Namespace: it.namespace}
	e.rec.Eventf(ref, nil, corev1.EventTypeWarning, reasonName(it.reason), action(it.component), "%s", it.message)
}

// actionInject is the Event action of a finding about the whole Pod (opted out, invalid inject).
const actionInject = "Inject"

// action names what the Event is about: "Inject/<component>" for a component's finding. The
// component must be part of the Event's identity, not only of the rate limit: client-go's
// broadcaster folds Events with the same regarding object, type, reason and action into one
// series, so tilt-templates' configmap_missing became a second count of tilt-lib's Event (one
// Event, series.count 2, tilt-lib's note) and its own note was never seen. The action is the one
// free field of that key; a component name (a DNS-1123 label, 63 bytes at most) keeps it within
// the API server's 128.
func action(component string) string {
	if component == "" {
		return actionInject
	}
	return actionInject + "/" + component
}
