// Command demo is `make demo`: a local control plane (etcd + kube-apiserver, loopback only), the
// real webhook behind a ClusterIP Service, the examples/ seed applied, and a table of what each
// workspace Pod got. It stays up for kubectl until Ctrl-C, then stops everything it started.
// DEMO_ONCE=1 exits right after printing (the e2e suite runs it that way: TestDemo).
//
// It is built on package harness, the same control plane and webhook set-up the e2e suite uses.
package main
