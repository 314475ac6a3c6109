// Package faults is the fault matrix of issue 17: workspace Pods created at 20/s through the real
// kube-apiserver while replicas of the real `webhook serve` binary are killed, restarted, cut off
// from the API server, or the API server itself restarts. Every stored Pod is checked against the
// version the test works out from its own pins and ConfigMaps (never with pkg/decide), and each
// fault's goal is asserted. Results: docs/benchmarks.md ("Fault matrix under load"); what an
// operator sees: docs/runbook.md ("Faults").
//
// Contract:
//   - Own control plane (TestMain): kube-apiserver with --enable-aggregator-routing=true, so it
//     calls a ready endpoint of the webhook's Service instead of its ClusterIP, and with the watch
//     cache off for namespaces and configmaps (compacting etcd then expires the webhook's resumed
//     watches); an audit log of the replicas' requests shows their relists.
//   - Two replicas on 127.0.20.1 and 127.0.20.2. One EndpointSlice per replica address follows
//     that replica's /readyz (probed every 50 ms). The slices are written into etcd directly,
//     because the API refuses loopback endpoints. Loopback only.
//   - The replicas reach the API server through an L4 proxy the test can cut and restore.
//   - Forms: short by default (`make e2e`: 3 s of load around each fault); full with -faults.full
//     or TILTLIB_FAULTS=full (`make faults`: 20 s around each fault, the rolling restart without
//     preStop, and a 10-minute soak). TILTLIB_FAULTS_REPORT=<file> appends each result row there.
//   - Fault durations (2 s dead, 10 s outage, the preStop pause) define the faults; every wait for a
//     condition polls under a deadline.
package faults
