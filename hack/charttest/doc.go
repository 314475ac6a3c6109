// Package charttest tests charts/tilt-lib-injector with the real helm binary (hack/tools.sh builds it;
// the tests find it as $KUBEBUILDER_ASSETS/helm, as `make unit` passes it). It holds no code but its
// tests: helm lint, golden renders (testdata/<case>.values.yaml → <case>.golden.yaml, refreshed with
// `go test ./hack/charttest -update`), the decisions behind them checked on the parsed objects, and
// the values the schema must refuse.
//
// Monitoring: the rendered PrometheusRule goes through `promtool check rules` and `promtool test rules`
// (testdata/alerts_test.yaml: each alert fires and does not fire), the dashboard's queries through
// promtool too (they parse; the adoption panels count each Pod once over two replicas), and both read
// only the contract's metrics (hack/promqlnames extracts them), the adoption gauges through `max by`.
// promtool sits next to helm in $KUBEBUILDER_ASSETS.
package charttest
