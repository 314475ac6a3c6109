//go:build faultinject

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
)

// The fault seam of the e2e suite's test binary (build tag faultinject; the shipped binary has
// faults_off.go instead): reviews of Pods in namespaces named with these prefixes fail the way
// the admission path can fail, so e2e/failure_semantics_test.go can show what the real API server
// does with each under both failure policies.
const (
	// faultLookup: the Namespace lookup fails (as a read-through that timed out).
	faultLookup = "fault-lookup-"
	// faultPanic: the Namespace lookup panics.
	faultPanic = "fault-panic-"
	// faultUndecodable: the Pod's containers arrive as a number, which the slim decoder refuses
	// (the API server itself always sends a typed Pod, so no real Pod does this).
	faultUndecodable = "fault-undecodable-"
)

type faultyNamespaces struct{ decide.Namespaces }

func (f faultyNamespaces) NamespaceAnnotations(ctx context.Context, name string) (map[string]string, bool, error) {
	switch {
	case strings.HasPrefix(name, faultLookup):
		return nil, false, errors.New("fault injected: the Namespace read timed out")
	case strings.HasPrefix(name, faultPanic):
		panic("fault injected: a panic in the Namespace lookup")
	}
	return f.Namespaces.NamespaceAnnotations(ctx, name)
}

func withFaults(ns decide.Namespaces) decide.Namespaces { return faultyNamespaces{ns} }

// withBodyFaults rewrites the review of a Pod in a faultUndecodable namespace before the handler
// reads it: its first "containers" array becomes a number.
func withBodyFaults(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if bytes.Contains(body, []byte(`"namespace":"`+faultUndecodable)) {
			body = bytes.Replace(body, []byte(`"containers":[`), []byte(`"containers":7,"fault":[`), 1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
