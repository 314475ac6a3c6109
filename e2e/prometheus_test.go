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
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
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

// promVersionsDocument is the scenario's versions document: a rollout of the alias stable, which
// only the Pods of the rollout namespace ask for (tilt-lib, by their namespace's pin). The
// scenario places its workspaces at 50 % and then raises the target to 70 %.
func promVersionsDocument(percent int) string {
	return fmt.Sprintf("aliases: {stable: v2}\nrollouts:\n- {name: tilt-lib-v3, from: stable, to: v3, percent: \"%d\"}\n", percent)
}

// promRolloutPods are the workspaces the rollout places in the scenario's rollout namespace
// (workspace ids 1 to promRolloutPods of the bucket oracle), at 50 % (threshold basis 5000); the
// target is then raised to 70 % (basis 7000): the baseline workspaces below 7000 are pending.
const (
	promRolloutPods    = 10
	promRolloutBasis   = 5000
	promRolloutRaised  = 70
	promRolloutRaisedB = 7000
)

// promScenario is two replicas of the webhook behind their Service, the Pods they count, and a
// Prometheus scraping both the way the chart's ServiceMonitor does. rollNS holds the workspaces
// the rollout placed: canaries of them on tilt-lib-v3, the rest on the baseline tilt-lib-v2.
type promScenario struct {
	sc                  *selfCert
	v2NS, defNS, rollNS string
	canaries            int       // placed in the canary at 50 %
	arms                armCounts // the rollout namespace's tilt-lib Pods per arm once the target is 70 %
	prom                *harness.Prometheus
	rules               []harness.RuleExpr
}

// promPodsSeries is the adoption gauge (docs/design.md, Adoption), one series per Pod namespace,
// component, ConfigMap and version.
func promPodsSeries(namespace, component, configMap, version string) harness.Series {
	return harness.Series{Name: "tiltlib_workspace_pods", Labels: map[string]string{
		"namespace": namespace, "component": component, "configmap": configMap, "version": version,
	}}
}

// wantGauges is what each replica must export for the scenario: 2 Pods on tilt-lib-v2 (namespace
// pin), 1 on tilt-lib (default), 1 that existed before the webhook was registered, and the rollout
// namespace's canaries on tilt-lib-v3 and baseline on tilt-lib-v2 (non-zero series only).
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
		{promPodsSeries(s.rollNS, "tilt-lib", "tilt-lib-v3", "3.0.0"), float64(s.canaries)},
		{promPodsSeries(s.rollNS, "tilt-lib", "tilt-lib-v2", "2.0.1"), float64(promRolloutPods - s.canaries)},
		{promPodsSeries(s.rollNS, "tilt-templates", "tilt-templates", "1.1.0"), promRolloutPods},
	} {
		if e.n != 0 {
			want[e.s.Key()] = e.n
		}
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
	s.rollNS = namespace(t, "prom-rollout", map[string]string{harness.KeyVersion: "stable"}, "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
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
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{s.v2NS, s.defNS, s.rollNS},
	}}}
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := api.Create(ctx, reg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(context.Background(), s.sc.cfgName, metav1.DeleteOptions{}) })
	// As the chart runs it: the versions document's metrics (read by two alerts) and the rollout
	// gauges (the Rollouts row, TiltLibRolloutOffTarget) exist only with the flag. The document
	// holds one rollout, reached only by the rollout namespace's tilt-lib (pinned to stable).
	if _, err := inj.Client.CoreV1().ConfigMaps(s.sc.ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: promJob + "-versions"},
		Data:       map[string]string{"versions.yaml": promVersionsDocument(50)},
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
	s.placeRollout(t)

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

// placeRollout creates the rollout namespace's workspaces and counts the canaries: each Pod's
// placement must be the bucket oracle's (canary below the 50 % threshold), and the oracle must put
// some on each side, or the row's numbers would prove little.
func (s *promScenario) placeRollout(t *testing.T) {
	t.Helper()
	oracle := bucketOracle(t)
	// Ready when a dry run of workspace 1 lands where the oracle puts it (the namespace and both
	// ConfigMaps are in the answering replica's caches).
	lib := "tilt-lib-v2"
	if oracle[rolloutSalt][workspaceID(1)] < promRolloutBasis {
		lib = "tilt-lib-v3"
	}
	s.waitInjecting(t, s.rollNS, lib, workspaceID(1))
	got, want := map[int]placed{}, map[int]bool{}
	for i := 1; i <= promRolloutPods; i++ {
		p := s.pod(fmt.Sprintf("ws-%d", i))
		p.Labels[rollout.LabelWorkspaceID] = workspaceID(i)
		stored, _ := createPod(t, s.rollNS, p)
		got[i] = placement(t, stored)
		if oracle[rolloutSalt][workspaceID(i)] < promRolloutBasis {
			want[i] = true
		}
	}
	canary := canaries(t, "prometheus scenario", got, oracle, rolloutSalt, promRolloutBasis)
	sameSet(t, "prometheus scenario", canary, want)
	s.canaries = len(canary)

	// Raise the target: running Pods keep their arm, so those the new threshold would give the
	// canary are pending, and the running share (canary) falls behind the assigned one.
	ctx := context.Background()
	cms := inj.Client.CoreV1().ConfigMaps(s.sc.ns)
	cm, err := cms.Get(ctx, promJob+"-versions", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["versions.yaml"] = promVersionsDocument(promRolloutRaised)
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	now := map[int]bool{}
	for i := 1; i <= promRolloutPods; i++ {
		if oracle[rolloutSalt][workspaceID(i)] < promRolloutRaisedB {
			now[i] = true
		}
	}
	s.arms = splitArms(promRolloutPods, canary, now)
	if s.arms["canary"] == 0 || s.arms["pending"] == 0 || s.arms["baseline"] == 0 {
		t.Fatalf("the oracle gives arms %v for workspaces 1 to %d: pick ids with a canary, a pending and a baseline Pod", s.arms, promRolloutPods)
	}
	expectRolloutGauges(t, "prometheus scenario at 70 %", s.sc.replicas, promRollout, "tilt-lib", promRolloutRaised, s.arms)
}

// pod is a workspace Pod of this scenario: selected by promLabel only.
func (s *promScenario) pod(name string) *corev1.Pod {
	p := harness.WorkspacePod(name, nil)
	p.Labels = map[string]string{promLabel: s.sc.ns}
	return p
}

// waitInjecting waits until a dry-run Pod in ns (with the workspace id given, if one) gets lib: the registration's caBundle is
// published and the replica that answers has the Namespace and ConfigMaps in its caches.
func (s *promScenario) waitInjecting(t *testing.T, ns, lib string, workspaceIDs ...string) {
	t.Helper()
	var last map[string]string
	settle := s.pod("settle")
	for _, id := range workspaceIDs { // at most one: the rollout's key
		settle.Labels[rollout.LabelWorkspaceID] = id
	}
	err := harness.Poll(context.Background(), time.Minute, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, ns, settle)
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
