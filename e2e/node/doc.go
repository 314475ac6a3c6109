// Package node proves tilt-lib-injector on a real node: kubelet, containerd, the
// controller-manager and the scheduler beside the harness's etcd and API server (harness.Node),
// the injector installed with `helm install` of charts/tilt-lib-injector and running as the
// chart's two Pods (harness.NodeChart): the API server calls them through the chart's Service,
// at the address of a Ready endpoint (--enable-aggregator-routing; there is no kube-proxy), and
// they reach the API server with in-cluster config on the Pod bridge's gateway (the chart's
// extraEnv). No test-process webhook runs here. Workspaces are Deployments from examples/: the
// controller-manager creates their ReplicaSet and Pod, the scheduler places it, kubelet runs it,
// and the tests look inside the running container through the API server (kubectl exec, API
// server → kubelet on 127.0.0.1).
//
// The tests carry the build tag e2e and need root (containerd, kubelet, a bridge, cgroups): without
// it TestMain prints one line saying so and runs nothing. Every run restores the host (routes,
// sysctls, mounts, cgroups, the bridge, processes) and fails if it cannot; a run interrupted
// half-way is undone by the next one's start.
package node
