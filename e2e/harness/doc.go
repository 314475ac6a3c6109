// Package harness runs tilt-lib-injector the way a cluster would, on this machine only: a real
// etcd and kube-apiserver (through controller-runtime's envtest), the real `webhook serve` binary
// as a subprocess behind a ClusterIP Service, and a MutatingWebhookConfiguration that reaches it
// through that Service. The e2e tests and `make demo` both use it.
//
// Contract:
//   - Loopback only. The API server allocates Service IPs from 127.0.10.0/24, advertises
//     127.0.0.1 and reconciles no endpoints; etcd, the API server, the webhook (on its Service's
//     ClusterIP) and every client listen on 127.x. Nothing here opens a socket elsewhere.
//   - No fixed sleeps: every wait polls a condition under a deadline and reports what it last saw.
//   - Everything started is stopped by the value that started it, by PID (Injector.Close,
//     Webhook.Stop, Prometheus.Stop); nothing is killed by name.
//   - StartPrometheus runs a real Prometheus on a free loopback port, scraping the given
//     replicas the way the chart's ServiceMonitor does (job = Service name, honor_labels, a
//     static namespace label), with optional rule files; its API client evaluates instant
//     queries and waits (with a deadline) for scrapes and rule evaluations.
//   - ControlPlane.StopAPIServer / StartAPIServer restart kube-apiserver with the same command
//     line, certificates and etcd (envtest's own restart makes new CAs, which breaks every
//     kubeconfig written before); the process is found by PID among this process's children.
//   - Not safe for concurrent use of one Injector from several goroutines while it restarts the
//     webhook; read-only helpers (clients, Scrape) are.
//   - Node (Linux, root) adds a real node beside the control plane: containerd with runc, kubelet,
//     kube-controller-manager and kube-scheduler, each with its own identity; kubelet serves on
//     the loopback address that is also the Node's InternalIP, so the API server's exec and logs
//     stay on loopback. Pods run images imported from OCI tarballs built here (no registry) on a
//     host-only bridge: no IP forwarding, no masquerade, no default route in Pods. With a node,
//     the API server serves on the bridge's gateway address instead of 127.0.0.1 (still only
//     reachable from this machine), so Pods reach it; Halt the node, stop the control plane,
//     then Stop the node (the address goes with the bridge). It writes under one fixed folder;
//     what it changes on the host (sysctls, cgroups, the bridge, mounts, processes) is recorded
//     in a state file first, restored and verified by Stop, and after a crash or an interrupt by
//     the next PrepareNode.
//   - NodeChart installs charts/tilt-lib-injector with helm on the node (NodeChartValues: the
//     node's image of `hack/image webhook`, extraEnv naming the API server's address); with
//     NodeChartAPIServerFlags the API server calls the chart's Service at a Ready endpoint, as
//     a cluster without kube-proxy must.
//
// The binaries (etcd, kube-apiserver, kubectl, helm, prometheus, and the node's kubelet,
// kube-controller-manager, kube-scheduler, containerd, ctr, runc, CNI plugins, busybox) come from
// KUBEBUILDER_ASSETS (hack/tools.sh prints the folder).
package harness
