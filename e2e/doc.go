// Package e2e proves tilt-lib-injector end to end: the real `webhook serve` binary behind a
// ClusterIP Service, called by a real kube-apiserver + etcd (package harness), with every
// assertion made on the Pod as the API server stored it and on the binary's own metrics.
//
// The tests carry the build tag e2e and need KUBEBUILDER_ASSETS (`make e2e` sets both). They
// share one control plane and one webhook process (TestMain); each scenario works in Namespaces
// of its own, and they run one at a time so that each can account for the metrics exactly.
package e2e
