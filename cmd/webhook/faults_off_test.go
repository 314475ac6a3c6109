//go:build !faultinject

package main

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

type noNamespaces struct{}

func (noNamespaces) NamespaceAnnotations(context.Context, string) (map[string]string, bool, error) {
	return nil, false, nil
}

// TestShippedBinaryHasNoFaultSeam: built without the faultinject tag (as the image and `make
// build` are), the seams are the identity: no namespace name or review makes the webhook fail on
// purpose.
func TestShippedBinaryHasNoFaultSeam(t *testing.T) {
	ns := noNamespaces{}
	if got := withFaults(ns); got != ns {
		t.Fatalf("withFaults wraps the lookup (%T) in a build without the faultinject tag", got)
	}
	h := http.NotFoundHandler()
	if got := withBodyFaults(h); reflect.ValueOf(got).Pointer() != reflect.ValueOf(h).Pointer() {
		t.Fatalf("withBodyFaults wraps the handler (%T) in a build without the faultinject tag", got)
	}
}
