// Command demo is `make demo`: a local control plane (etcd + kube-apiserver, loopback only), the
// real webhook behind a ClusterIP Service, the examples/ seed applied, and a table of what each
// workspace Pod got. One workspace (team-a/coder-carol-dev) is created before the webhook is
// registered, as in a cluster that ran workspaces before the injector was installed; the demo
// ends with adoption as the dashboard shows it, read from the webhook's tiltlib_workspace_pods
// gauge, that Pod called out as a straggler, and the kubectl and PromQL giving the same numbers.
// It stays up for kubectl until Ctrl-C, then stops everything it started. DEMO_ONCE=1 exits
// right after printing (the e2e suite runs it that way: TestDemo).
//
// It is built on package harness, the same control plane and webhook set-up the e2e suite uses.
package main
