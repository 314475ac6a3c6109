// Command demo is `make demo`: a local control plane (etcd + kube-apiserver, loopback only), the
// real webhook behind a ClusterIP Service, the examples/ seed applied, and a table of what each
// workspace Pod got. One workspace (team-a/coder-carol-dev) is created before the webhook is
// registered, as in a cluster that ran workspaces before the injector was installed; the demo
// ends with adoption as the dashboard shows it, read from the webhook's tiltlib_workspace_pods
// gauge, that Pod called out as a straggler, the PromQL giving those numbers, and the kubectl
// showing what each Pod mounts and asked for.
// It stays up for kubectl until Ctrl-C, then stops everything it started. DEMO_ONCE=1 exits
// right after printing (the e2e suite runs it that way: TestDemo).
//
// As root (Linux, node tools built) the workspaces really run, on a node beside the control plane
// (harness.Node: containerd, kubelet, controller-manager, scheduler): the example Deployments run
// a local busybox image, the controller-manager makes their Pods, the straggler is a Deployment
// whose Pod started before the registration, and the demo ends with kubectl exec into team-b's
// workspace printing the first lines of /apps/tilt-lib/tilt_lib.star and a ConfigMap update
// arriving there while it runs. Without root it says in one line why there is no node, and the
// workspaces are API objects whose Pods it creates from each Deployment's template.
//
// It is built on package harness, the same control plane and webhook set-up the e2e suite uses.
package main
