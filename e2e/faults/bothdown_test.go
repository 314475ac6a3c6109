//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// outage is the fault's definition: both replicas down this long.
const outage = 10 * time.Second

// TestBothReplicasDown: both replicas stop for 10 s under load, then start again. Ignore: the Pods
// created meanwhile are stored un-injected, every one counted by
// tiltlib_workspace_pods{configmap="none"}, and the chart's TiltLibWorkspacesNotInjected
// expression is true for their namespaces (a real Prometheus scraping both replicas with the
// chart's rules). Fail: those creations fail, with the API server's message naming the webhook.
func TestBothReplicasDown(t *testing.T) {
	for _, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			ctx := t.Context()
			r := newRun(t, "bothdown", policy)
			r.start()
			hold(ctx, faultLength()/2)
			for i := range c.replicas {
				if err := c.replicas[i].wh.Stop(30 * time.Second); err != nil {
					t.Error(err)
				}
			}
			hold(ctx, outage)
			for i := range c.replicas {
				if err := c.restart(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
			hold(ctx, faultLength()/2)
			res := r.finish()
			r.report(res)
			wantNoWrong(t, res)
			if policy == admissionv1.Ignore {
				if res.Failed != 0 {
					t.Errorf("Ignore: %d creations failed, want 0", res.Failed)
				}
				if res.Uninjected == 0 {
					t.Errorf("Ignore: no Pod stored un-injected during a %s outage: was the webhook really down?", outage)
				}
				r.wantGauge(res)
				r.wantAlert()
				return
			}
			if res.Failed == 0 {
				t.Errorf("Fail: no creation failed during a %s outage", outage)
			}
			if res.Uninjected != 0 {
				t.Errorf("Fail: %d Pods stored un-injected", res.Uninjected)
			}
			want := `failed calling webhook "` + harness.WebhookName + `"`
			for msg := range res.errors {
				if !strings.Contains(msg, want) {
					t.Errorf("Fail: a creation failed without naming the webhook (%s): %s", want, msg)
				}
			}
		})
	}
}

// wantAlert evaluates the chart's TiltLibWorkspacesNotInjected expression on a real Prometheus
// scraping both replicas, as the chart's ServiceMonitor would: it must be true for both namespaces
// of the run.
func (r *run) wantAlert() {
	t := r.t
	t.Helper()
	ctx := t.Context()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	const release = "tilt-lib-injector" // fullname = job = the Service's name, with default values
	dir := filepath.Join(c.workDir, "prometheus-"+r.id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	helm := exec.Command(filepath.Join(c.cp.AssetsDir, "helm"), "template", release, filepath.Join(root, "charts", "tilt-lib-injector"),
		"--namespace", c.svc.Namespace, "--set", "prometheusRule.enabled=true", "--show-only", "templates/monitoring.yaml",
		"--api-versions", "monitoring.coreos.com/v1/PrometheusRule") // the chart refuses the rule where the CRD is not served
	helm.Env = append(os.Environ(), "HELM_CONFIG_HOME="+dir, "HELM_CACHE_HOME="+dir, "HELM_DATA_HOME="+dir)
	manifests, err := helm.CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, manifests)
	}
	ruleFile, rules, err := harness.PrometheusRuleFile(manifests)
	if err != nil {
		t.Fatal(err)
	}
	var expr string
	for _, rule := range rules {
		if rule.Name == "TiltLibWorkspacesNotInjected" {
			expr = rule.Expr
		}
	}
	if expr == "" {
		t.Fatal("the chart has no TiltLibWorkspacesNotInjected alert")
	}
	rulePath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulePath, ruleFile, 0o600); err != nil {
		t.Fatal(err)
	}
	var targets []harness.PrometheusTarget
	for _, rep := range c.replicas {
		targets = append(targets, harness.PrometheusTarget{Addr: rep.wh.MetricsAddr, Pod: release + "-" + rep.name})
	}
	start := time.Now()
	prom, err := harness.StartPrometheus(ctx, harness.PrometheusOptions{
		WorkDir: dir, Job: release, Namespace: c.svc.Namespace, Targets: targets, RuleFiles: []string{rulePath},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = prom.Stop() }()
	if err := prom.WaitScraped(ctx, len(targets), start, time.Minute); err != nil {
		t.Fatal(err)
	}
	var last string
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		v, err := prom.Query(ctx, expr)
		if err != nil {
			return false, err
		}
		fired := map[string]bool{}
		for _, s := range v {
			fired[string(s.Metric["namespace"])] = true
		}
		last = fmt.Sprint(v)
		return fired[r.pinned] && fired[r.plain], nil
	})
	if err != nil {
		t.Fatalf("TiltLibWorkspacesNotInjected's expression is not true for %s and %s (last: %s): %v", r.pinned, r.plain, last, err)
	}
	t.Logf("TiltLibWorkspacesNotInjected's expression is true: %s", last)
}
