package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// readyTimeout bounds one evaluation of the readiness checks for tiltlib_ready: a check that
// reads a cache could otherwise hold a scrape until the cache syncs.
const readyTimeout = 5 * time.Second

// readiness is the manager with its readyz checks recorded: every check added through it serves
// /readyz and is also what ready evaluates for tiltlib_ready, so the gauge and the probe share
// one condition. Add readyz checks through it, never through the bare manager.
type readiness struct {
	manager.Manager
	mu     sync.Mutex
	checks []healthz.Checker
}

// AddReadyzCheck registers c with the manager's /readyz and with ready.
func (r *readiness) AddReadyzCheck(name string, c healthz.Checker) error {
	if err := r.Manager.AddReadyzCheck(name, c); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, c)
	return nil
}

// ready reports whether /readyz would answer OK now: every check passes.
func (r *readiness) ready() bool {
	r.mu.Lock()
	checks := append([]healthz.Checker(nil), r.checks...)
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/readyz", nil)
	if err != nil {
		return false
	}
	for _, c := range checks {
		if c(req) != nil {
			return false
		}
	}
	return true
}
