package main

import (
	"testing"

	"k8s.io/client-go/rest"
)

// The Events client has its own rate limit, and the config it was copied from keeps none (the
// informers' clients): a burst of --events-burst requests, then one per 1/--events-qps.
func TestEventsClientHasItsOwnRateLimit(t *testing.T) {
	rc := withClientDefaults(&rest.Config{Host: "https://127.0.0.1:6443"})
	ec, err := eventsClient(rc, 0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	rl := ec.RESTClient().GetRateLimiter()
	if rl == nil || rl.QPS() != 0.1 {
		t.Fatalf("Events client rate limiter %v, want 0.1 QPS", rl)
	}
	accepted := 0
	for i := 0; i < 10 && rl.TryAccept(); i++ {
		accepted++
	}
	// At 0.1 QPS the bucket refills one token per 10s: only the burst is accepted at once.
	if accepted != 3 {
		t.Fatalf("%d requests accepted at once, want the burst 3", accepted)
	}
	if rc.QPS != -1 || rc.RateLimiter != nil {
		t.Fatalf("the shared config was changed: QPS %g, limiter %v", rc.QPS, rc.RateLimiter)
	}
}
