//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

const (
	// promLabel selects the Pods of the Prometheus scenario (value: its injector namespace), so its
	// replicas count exactly the scenario's Pods and the suite's webhook never sees them.
	promLabel = "e2e.tilt-lib.platform/prom"
	// promJob is the Service name, hence the scrape job, of the chart with default values: the
	// job the rendered PrometheusRule selects.
	promJob = "tilt-lib-injector"
	// Dashboard is the dashboard the chart and manifests/ ship (contract: docs/design.md, Adoption).
	dashboardPath = "charts/tilt-lib-injector/dashboards/tilt-lib-injector.json"
)

// The adoption panels (exact titles, contract: docs/design.md, Adoption); e2e checks their first
// target.
const (
	panelLib        = "Workspaces by tilt-lib version"
	panelTemplates  = "Workspaces by templates version"
	panelUninjected = "Un-injected workspaces"
)

// alertNames are the alerts the chart's PrometheusRule ships (contract: docs/design.md, Adoption).
var alertNames = []string{"TiltLibInjectorDown", "TiltLibInjectorNotReady", "TiltLibWorkspacesNotInjected",
	"TiltLibAdmissionErrors", "TiltLibConfigMapMissing", "TiltLibCertificateExpiringSoon", "TiltLibRolloutOffTarget"}

// promVersionsDocument is the scenario's versions document: a rollout at 50 % of the alias
// stable, which none of its Pods asks for.
const promVersionsDocument = "aliases: {stable: v2}\nrollouts:\n- {name: tilt-lib-v3, from: stable, to: v3, percent: \"50\"}\n"

// promScenario is two replicas of the webhook behind their Service, the Pods they count, and a
// Prometheus scraping both the way the chart's ServiceMonitor does.
type promScenario struct {
	sc          *selfCert
	v2NS, defNS string
	prom        *harness.Prometheus
	rules       []harness.RuleExpr
}

// promPodsSeries is the adoption gauge (docs/design.md, Adoption), one series per Pod namespace,
// component, ConfigMap and version.
func promPodsSeries(namespace, component, configMap, version string) harness.Series {
	return harness.Series{Name: "tiltlib_workspace_pods", Labels: map[string]string{
		"namespace": namespace, "component": component, "configmap": configMap, "version": version,
	}}
}

// wantGauges is what each replica must export for the scenario: 2 Pods on tilt-lib-v2 (namespace
// pin), 1 on tilt-lib (default), 1 that existed before the webhook was registered.
func (s *promScenario) wantGauges() map[string]float64 {
	want := map[string]float64{}
	for _, e := range []struct {
		s harness.Series
		n float64
	}{
		{promPodsSeries(s.v2NS, "tilt-lib", "tilt-lib-v2", "2.0.1"), 2},
		{promPodsSeries(s.v2NS, "tilt-templates", "tilt-templates", "1.1.0"), 2},
		{promPodsSeries(s.defNS, "tilt-lib", "tilt-lib", "1.4.0"), 1},
		{promPodsSeries(s.defNS, "tilt-templates", "tilt-templates", "1.1.0"), 1},
		{promPodsSeries(s.defNS, "tilt-lib", "none", ""), 1},
		{promPodsSeries(s.defNS, "tilt-templates", "none", ""), 1},
	} {
		want[e.s.Key()] = e.n
	}
	return want
}

// newPromScenario builds the scenario. The un-injected Pod is created first, while no
// registration selects it: a workspace that existed before the injector was installed.
func newPromScenario(t *testing.T) *promScenario {
	t.Helper()
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &promScenario{sc: &selfCert{ns: namespace(t, "prom", nil)}}
	s.v2NS = namespace(t, "prom-v2", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	s.defNS = namespace(t, "prom-default", nil, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	s.sc.podNS = s.defNS
	if s.sc.svc, err = harness.CreateService(ctx, inj.Client, s.sc.ns, promJob); err != nil {
		t.Fatal(err)
	}

	// No registration selects this Pod yet: it is admitted as it was, like a workspace that ran
	// before the chart was installed, and stays un-injected (configmap="none").
	legacy, _ := createPod(t, s.defNS, s.pod("legacy"))
	assertUntouched(t, legacy)

	// The rules as the chart renders them with default values (job = fullname = tilt-lib-injector).
	manifests := helmCmd(t, "template", promJob, filepath.Join(root, "charts", "tilt-lib-injector"),
		"--namespace", promJob, "--set", "prometheusRule.enabled=true", "--show-only", "templates/monitoring.yaml",
		"--api-versions", "monitoring.coreos.com/v1/PrometheusRule") // this API server has no prometheus-operator CRDs
	ruleFile, rules, err := harness.PrometheusRuleFile([]byte(manifests))
	if err != nil {
		t.Fatalf("the chart's PrometheusRule: %v\n%s", err, manifests)
	}
	s.rules = rules

	s.sc.cfgName = "e2e-" + s.sc.ns
	reg := harness.SelfCertRegistration(s.sc.cfgName, s.sc.svc, admissionv1.Ignore, s.defNS, promLabel, s.sc.ns)
	reg.Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{s.v2NS, s.defNS},
	}}}
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := api.Create(ctx, reg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(context.Background(), s.sc.cfgName, metav1.DeleteOptions{}) })
	// As the chart runs it: the versions document's metrics (read by two alerts) and the rollout
	// gauges (the Rollouts row, TiltLibRolloutOffTarget) exist only with the flag. The document
	// holds one rollout no scenario Pod reaches (none asks for the alias stable): its target and
	// every arm at 0 are exported.
	if _, err := inj.Client.CoreV1().ConfigMaps(s.sc.ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: promJob + "-versions"},
		Data:       map[string]string{"versions.yaml": promVersionsDocument},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--webhook-config-name=" + s.sc.cfgName, "--cert-secret-name=" + selfCertSecret,
		"--workspace-selector=" + promLabel + "=" + s.sc.ns,
		"--versions-configmap=" + s.sc.ns + "/" + promJob + "-versions"}
	var targets []harness.PrometheusTarget
	for i := range 2 {
		port, err := harness.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		w, err := inj.SelfCertReplica(fmt.Sprintf("%s-%d", s.sc.ns, i), s.sc.svc, net.IPv4(127, 0, 0, 1), port, flags...)
		if err != nil {
			t.Fatal(err)
		}
		s.sc.replicas = append(s.sc.replicas, w)
		targets = append(targets, harness.PrometheusTarget{Addr: w.MetricsAddr, Pod: fmt.Sprintf("%s-%d", promJob, i)})
		t.Cleanup(func() {
			if err := w.Stop(30 * time.Second); err != nil {
				t.Errorf("stopping replica %d: %v", i, err)
			}
		})
	}
	s.sc.launchAll(t)
	proxy, err := harness.StartProxy(s.sc.svc.Addr(), s.sc.replicas[0].Addr, s.sc.replicas[1].Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })

	s.waitInjecting(t, s.v2NS, "tilt-lib-v2")
	s.waitInjecting(t, s.defNS, "tilt-lib")
	for i := range 2 {
		pod, _ := createPod(t, s.v2NS, s.pod(fmt.Sprintf("v2-%d", i)))
		assertInjected(t, pod, libV2Namespace, templatesDefault)
	}
	pod, _ := createPod(t, s.defNS, s.pod("default"))
	assertInjected(t, pod, libDefault, templatesDefault)

	workDir := filepath.Join(inj.WorkDir, "prometheus-"+s.sc.ns)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rulePath := filepath.Join(workDir, "rules.yaml")
	if err := os.WriteFile(rulePath, ruleFile, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.prom, err = harness.StartPrometheus(ctx, harness.PrometheusOptions{
		WorkDir: workDir, Job: promJob, Namespace: s.sc.ns, Targets: targets, RuleFiles: []string{rulePath},
	})
	if err != nil {
		t.Fatalf("prometheus with the chart's rules (%s): %v", rulePath, err)
	}
	t.Cleanup(func() {
		if err := s.prom.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := s.prom.WaitScraped(ctx, 2, start, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

// pod is a workspace Pod of this scenario: selected by promLabel only.
func (s *promScenario) pod(name string) *corev1.Pod {
	p := harness.WorkspacePod(name, nil)
	p.Labels = map[string]string{promLabel: s.sc.ns}
	return p
}

// waitInjecting waits until a dry-run Pod in ns gets lib: the registration's caBundle is
// published and the replica that answers has the Namespace and ConfigMaps in its caches.
func (s *promScenario) waitInjecting(t *testing.T, ns, lib string) {
	t.Helper()
	var last map[string]string
	err := harness.Poll(context.Background(), time.Minute, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, ns, s.pod("settle"))
		if err != nil {
			return false, fmt.Errorf("dry-run create: %w", err)
		}
		last = p.Annotations
		rec, ok, err := harness.InjectedRecord(p)
		return err == nil && ok && rec.Lib != nil && rec.Lib.ConfigMap == lib, nil
	})
	if err != nil {
		t.Fatalf("replicas never injected %s in %s (last annotations %v): %v", lib, ns, last, err)
	}
}

// waitGauges waits until every replica exports exactly the scenario's workspace gauges (the
// non-zero series of tiltlib_workspace_pods), then until Prometheus scraped both after that.
func (s *promScenario) waitGauges(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	want := s.wantGauges()
	for i, w := range s.sc.replicas {
		var got map[string]float64
		err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
			sn, err := harness.Scrape(ctx, w.MetricsAddr)
			if err != nil {
				return false, err
			}
			got = map[string]float64{}
			for k, v := range sn.Values {
				if strings.HasPrefix(k, "tiltlib_workspace_pods{") && v != 0 {
					got[k] = v
				}
			}
			return equalValues(got, want), nil
		})
		if err != nil {
			t.Fatalf("replica %d (%s) never exported the scenario's tiltlib_workspace_pods: %v\ngot  %v\nwant %v",
				i, w.MetricsAddr, err, got, want)
		}
	}
	since := time.Now()
	if err := s.prom.WaitScraped(ctx, 2, since, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func equalValues(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// dashboard reads the shipped dashboard; a missing file fails the test (it is part of the contract
// in docs/design.md, Adoption).
func dashboard(t *testing.T) ([]harness.PanelQuery, []harness.DashboardVariable) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, dashboardPath))
	if err != nil {
		t.Fatalf("the dashboard the chart ships: %v", err)
	}
	queries, vars, err := harness.DashboardQueries(data)
	if err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if len(queries) == 0 {
		t.Fatalf("%s has no query", dashboardPath)
	}
	return queries, vars
}

// dashboardVars are the values Grafana would substitute: this scenario's job and injector
// namespace, every workspace namespace, the chart's default cluster label and All clusters (the
// variable's allValue, which also matches a series without the label).
func (s *promScenario) dashboardVars(workspaceNS string) map[string]string {
	return map[string]string{"job": promJob, "namespace": s.sc.ns, "workspace_namespace": workspaceNS, "__rate_interval": "1m",
		"cluster_label": clusterLabel, "cluster": ".*"}
}

// vectorValues renders a query result as {"label=value,...": value}, over the labels named.
func vectorValues(v model.Vector, labels ...string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range v {
		parts := make([]string, len(labels))
		for i, l := range labels {
			parts[i] = l + "=" + string(s.Metric[model.LabelName(l)])
		}
		out[strings.Join(parts, ",")] = float64(s.Value)
	}
	return out
}

func (s *promScenario) query(t *testing.T, expr string) model.Vector {
	t.Helper()
	v, err := s.prom.Query(context.Background(), expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func firstTarget(t *testing.T, queries []harness.PanelQuery, title string) string {
	t.Helper()
	i := slices.IndexFunc(queries, func(q harness.PanelQuery) bool { return q.Panel == title && q.Index == 0 })
	if i < 0 {
		t.Fatalf("%s has no panel titled %q", dashboardPath, title)
	}
	return queries[i].Expr
}
