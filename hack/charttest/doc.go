// Package charttest tests charts/tilt-lib-injector with the real helm binary (hack/tools.sh builds it;
// the tests find it as $KUBEBUILDER_ASSETS/helm, as `make unit` passes it). It holds no code but its
// tests: helm lint, golden renders (testdata/<case>.values.yaml → <case>.golden.yaml, refreshed with
// `go test ./hack/charttest -update`), the decisions behind them checked on the parsed objects, and
// the values the schema must refuse.
package charttest
