//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDistributeScale measures the distributor's first sync at TLI_E2E_DISTRIBUTE_SCALE
// namespaces (docs/benchmarks.md: 2000) × 6 sources: the time from the process start until
// every copy is in sync, and the API requests it made (client-go's rest_client_requests_total,
// by method). TLI_E2E_DISTRIBUTE_QPS sets --qps (burst twice that; default the binary's 50).
// Opt-in: it adds 12,000 ConfigMaps to the shared API server.
func TestDistributeScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TLI_E2E_DISTRIBUTE_SCALE"))
	if n <= 0 {
		t.Skip("set TLI_E2E_DISTRIBUTE_SCALE=2000 to measure the first sync at that many namespaces")
	}
	qps := os.Getenv("TLI_E2E_DISTRIBUTE_QPS")
	if qps == "" {
		qps = "50"
	}
	q, err := strconv.ParseFloat(qps, 64)
	if err != nil {
		t.Fatalf("TLI_E2E_DISTRIBUTE_QPS=%q: %v", qps, err)
	}
	ctx := context.Background()
	d := newDistSetup(t, "dscale")
	names := []string{"tilt-lib", "tilt-lib-v1", "tilt-lib-v2", "tilt-templates", "tilt-templates-v1", "tilt-templates-v2"}
	for _, name := range names {
		d.source(t, name, "", map[string]string{"lib.star": strings.Repeat("# library line\n", 200)}) // 3 KB each
	}
	jobs, errs := make(chan int), make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("%s-t%04d", d.src, i), Labels: map[string]string{d.key: d.val}}}, metav1.CreateOptions{})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("creating namespaces: %v", err)
	}

	start := time.Now()
	w := d.distributor(t, "scale", "--qps="+qps, fmt.Sprintf("--burst=%d", int(2*q)), "--log-level=info")
	want := float64(n * len(names))
	inSync := distSeries("tiltlib_distribute_copies", "state", "in_sync")
	err = harness.Poll(ctx, 30*time.Minute, func(ctx context.Context) (bool, error) {
		sn, err := harness.Scrape(ctx, w.MetricsAddr)
		return err == nil && sn.Get(inSync) == want, nil
	})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("not every copy in sync: %v", err)
	}
	sn := scrapeDist(t, w)
	byMethod := map[string]float64{}
	var total float64
	for _, m := range sn.Families["rest_client_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "method" {
				byMethod[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
		total += m.GetCounter().GetValue()
	}
	t.Logf("first sync of %d namespaces × %d ConfigMaps (--qps %s): %s from process start, %.0f API requests %v, %v passes, %v creates",
		n, len(names), qps, took.Round(100*time.Millisecond), total, byMethod,
		sn.Get(distSeries("tiltlib_distribute_passes_total")), sn.Get(distSeries("tiltlib_distribute_writes_total", "kind", "create")))
	if creates := sn.Get(distSeries("tiltlib_distribute_writes_total", "kind", "create")); creates != want {
		t.Errorf("%v creates, want exactly %v (one per copy)", creates, want)
	}
	// The copies stay: they carry this scenario's source namespace, so the other scenarios'
	// distributors see them as another distributor's and never touch them.
}
