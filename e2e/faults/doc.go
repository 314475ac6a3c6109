// Package faults is the fault matrix of issue 17: workspace Pods created at a steady rate through
// the real kube-apiserver while replicas of the real `webhook serve` binary are killed, restarted,
// cut off from the API server, or the API server itself restarts; every stored Pod is checked
// against the version the test computes itself. See docs/benchmarks.md ("Fault matrix") for the
// results and docs/runbook.md for what an operator sees in each case.
//
// The tests carry the build tags e2e and linux and start their own control plane (TestMain): the
// API server runs with --enable-aggregator-routing=true, so it calls a ready endpoint of the
// webhook's Service instead of its ClusterIP, and the test keeps one EndpointSlice per replica in
// step with that replica's /readyz (written into etcd: the API refuses loopback endpoints).
//
// Short form by default (`make e2e`, a few seconds per fault); full form with -faults.full or
// TILTLIB_FAULTS=full (`make faults`: longer runs and a 10-minute soak).
package faults
