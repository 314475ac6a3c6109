package distributor

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// Event reasons (the Kubernetes Event's reason field; not mutate.Reasons: nothing is admitted here).
const (
	EventNameClash     = "DistributeNameClash"
	EventStillMounted  = "DistributeOrphanStillMounted"
	EventSourceRefused = "DistributeSourceRefused"
	EventOrphanDeleted = "DistributeOrphanDeleted"
)

// apply carries out the writes of acts, at most `writers` at a time, and reports what needs a
// human (clashes, refused sources, orphans still mounted) as Events, once per distinct message.
func (c *Controller) apply(ctx context.Context, acts []distribute.Action) []error {
	var (
		mu   sync.Mutex
		errs []error
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(writers)
	for _, a := range acts {
		switch a.Kind {
		case distribute.Conflict:
			c.note(a, corev1.EventTypeWarning, EventNameClash, a.Reason)
			continue
		case distribute.Refused:
			// One Event on the source, not one per target namespace.
			src := distribute.Action{Namespace: c.o.Settings.SourceNamespace, Name: a.Name}
			c.note(src, corev1.EventTypeWarning, EventSourceRefused, "source not distributed: "+a.Reason)
			continue
		case distribute.KeepMounted:
			c.note(a, corev1.EventTypeWarning, EventStillMounted,
				fmt.Sprintf("orphaned copy kept past its grace: %d live Pods still mount it", a.Mounts))
			continue
		case distribute.Create, distribute.Update, distribute.MarkOrphaned, distribute.Delete:
		default:
			continue
		}
		if a.Namespace == c.o.Settings.SourceNamespace { // Plan never does this; never let it happen
			errs = append(errs, fmt.Errorf("refusing to write %s/%s: the source namespace", a.Namespace, a.Name))
			continue
		}
		g.Go(func() error {
			if err := c.write(ctx, a); err != nil {
				c.o.Metrics.Errors.WithLabelValues(string(a.Kind)).Inc()
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s/%s: %w", a.Kind, a.Namespace, a.Name, err))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return errs
}

func (c *Controller) write(ctx context.Context, a distribute.Action) error {
	cms := c.client.CoreV1().ConfigMaps(a.Namespace)
	var err error
	switch a.Kind {
	case distribute.Create:
		_, err = cms.Create(ctx, a.Object, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return c.clash(ctx, a)
		}
	case distribute.Update, distribute.MarkOrphaned:
		// a.Object carries the copy's resourceVersion: an edit since the plan is a 409 and the
		// next pass (queued by that edit) decides again.
		_, err = cms.Update(ctx, a.Object, metav1.UpdateOptions{FieldManager: FieldManager})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
	case distribute.Delete:
		uid, rv := a.UID, a.ResourceVersion
		err = cms.Delete(ctx, a.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // gone already, or changed since the plan: not ours to delete now
		}
		if err == nil {
			c.o.Log.Info("deleted orphaned copy", "namespace", a.Namespace, "configmap", a.Name)
			c.o.Recorder.Eventf(ref(a), corev1.EventTypeNormal, EventOrphanDeleted, "orphaned copy deleted: grace over and no live Pod mounts it")
		}
	}
	if err == nil {
		c.o.Metrics.Writes.WithLabelValues(string(a.Kind)).Inc()
	}
	return err
}

// clash records the ConfigMap a create ran into. An unmanaged one is a conflict from now on (the
// copy informer never sees it); a managed one is a copy the cache has not delivered yet.
func (c *Controller) clash(ctx context.Context, a distribute.Action) error {
	cur, err := c.client.CoreV1().ConfigMaps(a.Namespace).Get(ctx, a.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // deleted in between: the next pass creates it
	}
	if err != nil {
		c.o.Metrics.Errors.WithLabelValues(errGet).Inc()
		return fmt.Errorf("reading the ConfigMap in the way: %w", err)
	}
	if cur.Labels[distribute.ManagedByLabel] == distribute.ManagedBy {
		return nil
	}
	cur.ManagedFields = nil
	c.mu.Lock()
	c.clashes[[2]string{a.Namespace, a.Name}] = cur
	c.mu.Unlock()
	if c.queue != nil {
		c.queue.Add(passKey) // report it as a conflict now, not at the next event
	}
	return nil
}

// note emits an Event about a.Namespace/a.Name unless the same message was the last one emitted
// for that object.
func (c *Controller) note(a distribute.Action, typ, reason, msg string) {
	id := a.Namespace + "/" + a.Name + "/" + reason
	c.mu.Lock()
	same := c.reported[id] == msg
	c.reported[id] = msg
	c.mu.Unlock()
	if same {
		return
	}
	c.o.Log.Info(msg, "namespace", a.Namespace, "configmap", a.Name, "reason", reason)
	c.o.Recorder.Event(ref(a), typ, reason, msg)
}

func ref(a distribute.Action) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: a.Name, UID: a.UID}}
}
