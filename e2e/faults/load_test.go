//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// rate is the steady creation rate: workspace Pods per second, through the real API server.
const rate = 20

// runLabel marks every Pod of one run (value: the run's id).
const runLabel = "faults.e2e.tilt-lib/run"

// attempt is one Pod creation: when it was sent and answered, and how it ended.
type attempt struct {
	ns, name   string
	start, end time.Time
	err        error
}

// errClass sorts a failed creation by who refused it.
type errClass string

const (
	// classWebhook: the API server refused because of the webhook: a failed call under
	// failurePolicy Fail, or an AdmissionReview that denied the Pod (under either policy).
	classWebhook errClass = "webhook"
	// classAPI: the API server itself could not be reached or was not serving (the fault
	// "kube-apiserver restarted" makes these on purpose; nothing the webhook can change).
	classAPI   errClass = "apiserver"
	classOther errClass = "other"
)

func classify(err error) errClass {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed calling webhook"), strings.Contains(msg, "admission webhook"):
		return classWebhook
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "EOF"),
		strings.Contains(msg, "connection reset"), strings.Contains(msg, "is currently unable"),
		strings.Contains(msg, "context deadline exceeded"), strings.Contains(msg, "Client.Timeout"):
		return classAPI
	}
	return classOther
}

// load creates workspace Pods at rate, alternating over namespaces, until stopped: an open loop
// (a slow answer does not delay the next creation), at most maxInFlight at once.
type load struct {
	client     kubernetes.Interface
	run        string
	namespaces []string

	mu       sync.Mutex
	attempts []attempt
	stop     chan struct{}
	stopped  sync.Once
	taken    []attempt // finish's answer, kept: it may be asked twice
	done     chan struct{}
	wg       sync.WaitGroup
}

const maxInFlight = 200

func startLoad(client kubernetes.Interface, run string, namespaces ...string) *load {
	l := &load{client: client, run: run, namespaces: namespaces, stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *load) loop() {
	defer close(l.done)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			l.wg.Wait()
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // saturated: skip this slot rather than queue (counted as not sent)
		}
		ns := l.namespaces[seq%len(l.namespaces)]
		name := fmt.Sprintf("ws-%s-%05d", l.run, seq)
		l.wg.Add(1)
		go func() {
			defer func() { <-sem; l.wg.Done() }()
			l.create(ns, name)
		}()
	}
}

func (l *load) create(ns, name string) {
	pod := harness.WorkspacePod(name, nil)
	pod.Labels[runLabel] = l.run
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := attempt{ns: ns, name: name, start: time.Now()}
	_, a.err = l.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	a.end = time.Now()
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// finish stops creating, waits for the creations in flight and returns every attempt in the
// order they were sent.
func (l *load) finish() []attempt {
	l.stopOnce()
	if l.taken != nil {
		return l.taken
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]attempt(nil), l.attempts...)
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	l.taken = out
	return out
}

// stopOnce stops creating and waits for the creations in flight (idempotent).
func (l *load) stopOnce() {
	l.stopped.Do(func() { close(l.stop) })
	<-l.done
}
