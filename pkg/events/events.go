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

// Emitter queues and rate-limits Events. Create it with New and run Start.
type Emitter struct {
	rec      Recorder
	queue    chan item
	interval time.Duration
	now      func() time.Time
	last     map[key]time.Time
	dropped  atomic.Int64
}

type key struct {
	namespace, component string
	reason               mutate.Reason
}

type item struct {
	key
	message string
}

// Options tune an Emitter; zero values pick the defaults.
type Options struct {
	// Interval between two Events with the same key (default 1m).
	Interval time.Duration
	// QueueSize bounds the Events waiting to be recorded (default 256).
	QueueSize int
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
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Emitter{rec: rec, queue: make(chan item, o.QueueSize), interval: o.Interval, now: o.Now, last: map[key]time.Time{}}
}

// Emit queues one Event per non-trivial finding. It never blocks: when the queue is full the
// finding is dropped (the warning and the metric still carry it).
func (e *Emitter) Emit(namespace string, findings []mutate.Finding) {
	for _, f := range findings {
		if f.Reason == "" || f.Reason.Trivial() {
			continue
		}
		select {
		case e.queue <- item{key{namespace, f.Component, f.Reason}, f.Message}:
		default:
			e.dropped.Add(1)
		}
	}
}

// Dropped is the number of findings not turned into Events (queue full or rate-limited).
func (e *Emitter) Dropped() int64 { return e.dropped.Load() }

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
	if t, ok := e.last[it.key]; ok && now.Sub(t) < e.interval {
		e.dropped.Add(1)
		return
	}
	if len(e.last) > 10000 { // bound memory when many namespaces churn: forget expired keys
		for k, t := range e.last {
			if now.Sub(t) >= e.interval {
				delete(e.last, k)
			}
		}
	}
	e.last[it.key] = now
	// A cluster-scoped Namespace reference with its own name as namespace puts the Event in the
	// Pod's namespace (events validation requires event.namespace == regarding.namespace).
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: it.namespace, Namespace: it.namespace}
	e.rec.Eventf(ref, nil, corev1.EventTypeWarning, reasonName(it.reason), "Inject", "%s", it.message)
}

// reasonName turns a snake_case reason into the CamelCase Kubernetes Events use
// (configmap_missing -> ConfigMapMissing).
func reasonName(r mutate.Reason) string {
	switch r {
	case mutate.ReasonConfigMapMissing:
		return "ConfigMapMissing"
	case mutate.ReasonMountPathConflict:
		return "MountPathConflict"
	}
	out := make([]byte, 0, len(r))
	up := true
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}
