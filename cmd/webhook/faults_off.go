//go:build !faultinject

package main

import (
	"net/http"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
)

// withFaults and withBodyFaults return what they are given: faults are injected only into the
// e2e suite's test binary, built with the tag faultinject (faults_on.go).
func withFaults(ns decide.Namespaces) decide.Namespaces { return ns }

func withBodyFaults(h http.Handler) http.Handler { return h }
