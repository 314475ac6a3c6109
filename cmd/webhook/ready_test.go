package main

import (
	"errors"
	"net/http"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// probeManager records the checks the manager's /readyz would run.
type probeManager struct {
	manager.Manager
	readyz map[string]healthz.Checker
}

func (m *probeManager) AddReadyzCheck(name string, c healthz.Checker) error {
	m.readyz[name] = c
	return nil
}

// TestReadinessSharesTheProbe: tiltlib_ready's condition is exactly the set of checks /readyz
// runs, evaluated with a bounded request context.
func TestReadinessSharesTheProbe(t *testing.T) {
	pm := &probeManager{readyz: map[string]healthz.Checker{}}
	r := &readiness{Manager: pm}
	cachesSynced := false
	var sawDeadline bool
	checks := map[string]healthz.Checker{
		"caches": func(*http.Request) error {
			if !cachesSynced {
				return errors.New("not synced")
			}
			return nil
		},
		"webhook": func(req *http.Request) error {
			_, sawDeadline = req.Context().Deadline()
			return nil
		},
	}
	for name, c := range checks {
		if err := r.AddReadyzCheck(name, c); err != nil {
			t.Fatal(err)
		}
	}
	if len(pm.readyz) != len(checks) {
		t.Fatalf("/readyz got %d checks, want %d", len(pm.readyz), len(checks))
	}
	if r.ready() {
		t.Error("ready while a readyz check fails")
	}
	cachesSynced = true
	if !r.ready() {
		t.Error("not ready although every readyz check passes")
	}
	if !sawDeadline {
		t.Error("checks run without a deadline: a blocking cache read could hold the scrape")
	}
}
