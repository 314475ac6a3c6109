package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNamespaceReadsStartAtZeroAndCountByResult(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewNamespaceReads(reg, []string{"found", "timeout"})
	if err != nil {
		t.Fatal(err)
	}
	m.Read("found")
	m.Read("found")
	want := `
# HELP tiltlib_namespace_reads_total Namespaces read from the API server because a review named one the cache did not hold yet (the one API call on the admission path), by result: found (stored for the next review), not_found, error, timeout (error and timeout answer the review with a failed call, reason cache_error).
# TYPE tiltlib_namespace_reads_total counter
tiltlib_namespace_reads_total{result="found"} 2
tiltlib_namespace_reads_total{result="timeout"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tiltlib_namespace_reads_total"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewNamespaceReads(reg, nil); err == nil {
		t.Fatal("a second registration on one registry succeeded")
	}
}
