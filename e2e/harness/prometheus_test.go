//go:build e2e

package harness

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// exporter serves a registry on a loopback port, as a webhook replica's /metrics would: a gauge
// carrying its own `namespace` label and a counter.
func exporter(t *testing.T, pods float64) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "e2e_workspace_pods", Help: "h"}, []string{"namespace", "configmap"})
	g.WithLabelValues("team-a", "tilt-lib-v2").Set(pods)
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "e2e_reviews_total", Help: "h"})
	c.Add(3)
	reg.MustRegister(g, c)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return l.Addr().String()
}

// TestPrometheus runs the real binary against two exporters with a throwaway rule file and checks
// what the e2e tests rely on: the ServiceMonitor's labels (job, static namespace, pod) with a
// scraped namespace kept (honor_labels), instant queries, errors, the scrape wait and the rules.
func TestPrometheus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte(`groups:
  - name: g
    rules:
      - alert: TooManyPods
        expr: max by (namespace) (e2e_workspace_pods{job="tilt-lib-injector"}) > 1
        for: 15m
      - record: job:e2e_reviews:sum
        expr: sum by (job) (e2e_reviews_total)
`), 0o600); err != nil {
		t.Fatal(err)
	}
	targets := []PrometheusTarget{{Addr: exporter(t, 2), Pod: "injector-0"}, {Addr: exporter(t, 2), Pod: "injector-1"}}
	start := time.Now()
	p, err := StartPrometheus(ctx, PrometheusOptions{WorkDir: dir, Namespace: "injector-ns", Targets: targets, RuleFiles: []string{rules}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.LogTail(40))
		}
	})
	if err := p.WaitScraped(ctx, 2, start, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := p.Query(ctx, `e2e_workspace_pods`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("e2e_workspace_pods: %d series, want one per replica: %v", len(got), got)
	}
	for _, s := range got {
		if s.Metric["namespace"] != "team-a" || s.Metric["job"] != "tilt-lib-injector" || !strings.HasPrefix(string(s.Metric["pod"]), "injector-") || s.Value != 2 {
			t.Errorf("sample %v: want the scraped namespace team-a kept (honor_labels), job and pod target labels, value 2", s)
		}
	}
	got, err = p.Query(ctx, `e2e_reviews_total`)
	if err != nil || len(got) != 2 || got[0].Metric["namespace"] != "injector-ns" {
		t.Errorf("e2e_reviews_total = %v, %v: want the static namespace label where the series has none", got, err)
	}
	if got, err := p.Query(ctx, `sum(max by (namespace, configmap) (e2e_workspace_pods))`); err != nil || len(got) != 1 || got[0].Value != 2 {
		t.Errorf("max across replicas = %v, %v; want 2", got, err)
	}
	if got, err := p.Query(ctx, `scalar(sum(e2e_reviews_total))`); err != nil || len(got) != 1 || got[0].Value != 6 {
		t.Errorf("scalar = %v, %v; want one sample 6", got, err)
	}
	if _, err := p.Query(ctx, `sum by (namespace (e2e_workspace_pods)`); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("a malformed query: err = %v, want Prometheus' parse error", err)
	}
	if _, err := p.Query(ctx, `e2e_workspace_pods[1m]`); err == nil {
		t.Error("a range vector: want an error")
	}

	evaluated, err := p.WaitRulesEvaluated(ctx, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(evaluated) != 2 {
		t.Fatalf("rules = %+v, want 2", evaluated)
	}
	for _, r := range evaluated {
		if r.Health != "ok" {
			t.Errorf("rule %s: health %s (%s)", r.Name, r.Health, r.LastError)
		}
	}
	if a := evaluated[0]; a.Kind != "alerting" || a.Name != "TooManyPods" || a.State != "pending" {
		t.Errorf("alert = %+v, want TooManyPods pending (2 > 1, for 15m)", a)
	}
}

// TestPrometheusBadRules: a rule file that does not parse makes Prometheus exit at start; the
// harness reports it with the log's reason instead of waiting out its deadline.
func TestPrometheusBadRules(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum by (\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p, err := StartPrometheus(context.Background(), PrometheusOptions{WorkDir: dir,
		Targets: []PrometheusTarget{{Addr: exporter(t, 1), Pod: "p"}}, RuleFiles: []string{rules}, Timeout: 2 * time.Minute})
	if err == nil {
		_ = p.Stop()
		t.Fatal("prometheus started with a rule that does not parse")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "Broken") {
		t.Errorf("err = %v\nwant the exit and the log naming the rule", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %s: the harness waited out its deadline instead of seeing the exit", d)
	}
}

func TestPrometheusConfig(t *testing.T) {
	cfg, err := PrometheusConfig(PrometheusOptions{Namespace: "ns", Targets: []PrometheusTarget{{Addr: "127.0.0.1:1", Pod: "a", Labels: map[string]string{"cluster": "east"}}}, Interval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"honor_labels: true", "job_name: tilt-lib-injector", "scrape_interval: 500ms", "namespace: ns", "pod: a", "cluster: east"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	if _, err := PrometheusConfig(PrometheusOptions{}); err == nil {
		t.Error("no targets: want an error")
	}
	for _, k := range []string{"pod", "namespace", "job", "instance", "__address__"} {
		o := PrometheusOptions{Targets: []PrometheusTarget{{Addr: "127.0.0.1:1", Pod: "a", Labels: map[string]string{k: "x"}}}}
		if _, err := PrometheusConfig(o); err == nil || !strings.Contains(err.Error(), strconv.Quote(k)) {
			t.Errorf("target label %s: err %v, want it refused by name", k, err)
		}
	}
}
