//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// endpoints keeps one EndpointSlice per replica in step with the replica's /readyz, the way the
// kubelet's readiness probe and the EndpointSlice controller do in a cluster, every probePeriod.
// kube-apiserver runs with --enable-aggregator-routing=true, so it sends each review to a ready
// endpoint of the Service (a random one) instead of the ClusterIP: a replica that is not ready
// gets no review.
//
// The slices are written straight into etcd, because the API refuses them: EndpointSlice
// validation rejects loopback addresses (ValidateEndpointIP, "may not be in the loopback
// range"), and this machine may listen on loopback only. The API server reads them back like any
// stored object (its informer watches etcd through the watch cache); only validation is skipped.
type endpoints struct {
	c        *cluster
	etcd     *etcdClient
	replicas []*replica
	uids     []string
	created  string

	mu      sync.Mutex
	written []*bool // what each slice says now (nil: never written)
	// forced marks replicas the test wants out of the slice whatever their /readyz says.
	forced []bool
	// Changes counts slice writes, for the report.
	changes int
}

// probePeriod is how often readiness is probed (the kubelet's default is 10s; the test wants the
// routing to follow within a fraction of a second, so that what it measures is the webhook).
const probePeriod = 50 * time.Millisecond

func newEndpoints(c *cluster, replicas []*replica) *endpoints {
	e := &endpoints{c: c, etcd: newEtcd(c.cp.EtcdURL()), replicas: replicas,
		written: make([]*bool, len(replicas)), forced: make([]bool, len(replicas)),
		created: time.Now().UTC().Format(time.RFC3339)}
	for range replicas {
		e.uids = append(e.uids, string(uuid.NewUUID()))
	}
	return e
}

// sliceName is the slice of the i-th replica's address: it stays when the process behind the
// address is replaced (a Pod's IP, reused).
func (e *endpoints) sliceName(i int) string { return fmt.Sprintf("%s-%d", e.c.svc.Name, i+1) }

// write stores replica i's slice with the given readiness.
func (e *endpoints) write(ctx context.Context, i int, ready bool) error {
	e.mu.Lock()
	r := e.replicas[i]
	e.mu.Unlock()
	slice := map[string]any{
		"apiVersion": "discovery.k8s.io/v1",
		"kind":       "EndpointSlice",
		"metadata": map[string]any{
			"name": e.sliceName(i), "namespace": e.c.svc.Namespace, "uid": e.uids[i],
			"creationTimestamp": e.created,
			"labels": map[string]string{
				"kubernetes.io/service-name":             e.c.svc.Name,
				"endpointslice.kubernetes.io/managed-by": "faults.e2e.tilt-lib",
			},
		},
		"addressType": "IPv4",
		"endpoints": []any{map[string]any{
			"addresses":  []string{r.ip.String()},
			"conditions": map[string]bool{"ready": ready, "serving": ready, "terminating": false},
			"targetRef":  map[string]string{"kind": "Pod", "namespace": e.c.svc.Namespace, "name": r.name},
		}},
		// One slice per replica: each listens on a port of its own (a slice's ports apply to all
		// its endpoints), under the Service port's name, which is what the API server matches.
		"ports": []any{map[string]any{"name": "https", "port": r.port, "protocol": "TCP"}},
	}
	if err := e.etcd.put(ctx, fmt.Sprintf("endpointslices/%s/%s", e.c.svc.Namespace, e.sliceName(i)), slice); err != nil {
		return fmt.Errorf("EndpointSlice of %s: %w", r.name, err)
	}
	e.mu.Lock()
	e.written[i] = &ready
	e.changes++
	e.mu.Unlock()
	return nil
}

// setReplica puts r in place of replica i (same address: the slice stays), for the cluster too.
func (e *endpoints) setReplica(i int, r *replica) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.replicas[i] = r
}

// sync probes every replica once and rewrites the slices whose readiness changed.
func (e *endpoints) sync(ctx context.Context) error {
	e.mu.Lock()
	replicas := append([]*replica(nil), e.replicas...)
	e.mu.Unlock()
	for i, r := range replicas {
		ready := r.ready(ctx)
		e.mu.Lock()
		if e.forced[i] {
			ready = false
		}
		same := e.written[i] != nil && *e.written[i] == ready
		e.mu.Unlock()
		if same {
			continue
		}
		if err := e.write(ctx, i, ready); err != nil {
			return err
		}
	}
	return nil
}

// run syncs every probePeriod until ctx ends. etcd errors are retried (etcd is never the fault).
func (e *endpoints) run(ctx context.Context, errs chan<- error) {
	tick := time.NewTicker(probePeriod)
	defer tick.Stop()
	for {
		if err := e.sync(ctx); err != nil && ctx.Err() == nil {
			select {
			case errs <- err:
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// force takes replica i out of the slice (or gives it back to its /readyz) and waits until the
// slice says so.
func (e *endpoints) force(ctx context.Context, i int, out bool) error {
	e.mu.Lock()
	e.forced[i] = out
	e.mu.Unlock()
	return harness.Poll(ctx, 10*time.Second, func(context.Context) (bool, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.written[i] != nil && *e.written[i] == !out, nil
	})
}

// release gives replica i back to its /readyz without waiting (it may be down at that moment).
func (e *endpoints) release(i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forced[i] = false
}

// readyIn reports what replica i's slice says now.
func (e *endpoints) readyIn(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.written[i] != nil && *e.written[i]
}
