package charttest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// dashboardVars are the values the dashboard's queries are evaluated with; they stand for what Grafana
// substitutes. $__rate_interval becomes a plain range.
// $cluster is Grafana's All (its allValue).
var dashboardVars = map[string]string{
	"job": "tilt-lib-injector", "namespace": "tilt-system", "workspace_namespace": ".*",
	"newest_lib": "2.0.1", "newest_templates": "1.1.0", "__rate_interval": "2m",
	"cluster_label": "cluster", "cluster": ".*",
}

// expand substitutes $name and ${name}, longest names first so $job never eats $job_x.
func expand(expr string, vars map[string]string) string {
	for _, form := range []string{"${%s}", "$%s"} {
		for _, name := range []string{"workspace_namespace", "newest_templates", "newest_lib", "__rate_interval", "cluster_label", "namespace", "cluster", "job"} {
			expr = strings.ReplaceAll(expr, fmt.Sprintf(form, name), vars[name])
		}
	}
	return expr
}

// TestDashboardQueriesParse: every query of the dashboard, its variables substituted, is valid
// PromQL to promtool (as recording rules).
func TestDashboardQueriesParse(t *testing.T) {
	_, d := readDashboard(t)
	var rules []map[string]string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			e := expand(tg.Expr, dashboardVars)
			if strings.Contains(e, "$") {
				t.Errorf("panel %s: unsubstituted variable in %q", p.Title, e)
			}
			rules = append(rules, map[string]string{"record": fmt.Sprintf("dashboard:panel%d:%s", p.ID, strings.ToLower(tg.RefID)), "expr": e})
		}
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool(t), "check", "rules", f).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
}

// Two replicas export the same adoption gauges (replica b once with a lagging count): 5 workspace
// Pods, 3 on tilt-lib-v2 (2.0.1, the newest), 1 on tilt-lib (1.9.0), 1 un-injected in team-b.
const adoptionSeries = `
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-a", component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}', values: '2x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-a", component="tilt-lib", configmap="tilt-lib", version="1.9.0"}', values: '1x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-b", component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}', values: '1x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-b", component="tilt-lib", configmap="none", version=""}', values: '1x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-a", component="tilt-templates", configmap="tilt-templates", version="1.1.0"}', values: '3x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-b", component="tilt-templates", configmap="tilt-templates", version="1.1.0"}', values: '1x10'}
- {series: 'tiltlib_workspace_pods{job="tilt-lib-injector", instance="REPLICA", namespace="team-b", component="tilt-templates", configmap="none", version=""}', values: '1x10'}
- {series: 'tiltlib_configmap_versions{job="tilt-lib-injector", instance="REPLICA", component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}', values: '2x10'}
- {series: 'tiltlib_workspace_pods{job="someone-else", instance="REPLICA", namespace="team-a", component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}', values: '7x10'}
`

// What the adoption panels must show for adoptionSeries: labels → value, per panel title.
var adoptionWant = map[string]map[string]float64{
	"Workspaces by tilt-lib version":                         {`{configmap="tilt-lib-v2", version="2.0.1"}`: 3, `{configmap="tilt-lib", version="1.9.0"}`: 1, `{configmap="none"}`: 1},
	"Workspaces by templates version":                        {`{configmap="tilt-templates", version="1.1.0"}`: 4, `{configmap="none"}`: 1},
	"Un-injected workspaces":                                 {`{namespace="team-b"}`: 1},
	"Share on tilt-lib $newest_lib":                          {`{}`: 0.6},
	"Share on tilt-templates $newest_templates":              {`{}`: 0.8},
	"Share by tilt-lib version":                              {`{configmap="tilt-lib-v2", version="2.0.1"}`: 0.6, `{configmap="tilt-lib", version="1.9.0"}`: 0.2, `{configmap="none"}`: 0.2},
	"Stragglers: tilt-lib not on $newest_lib":                {`{namespace="team-a", configmap="tilt-lib", version="1.9.0"}`: 1, `{namespace="team-b", configmap="none"}`: 1},
	"Stragglers: tilt-templates not on $newest_templates":    {`{namespace="team-b", configmap="none"}`: 1},
	"Published versions (namespaces holding each ConfigMap)": {`{component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}`: 2},
}

// TestDashboardAdoptionNumbers: promtool evaluates the adoption panels' queries over two replicas'
// gauges and gets each Pod counted once, the share on the newest version and the stragglers. The
// series carry no cluster label (one cluster, one Prometheus) and the cluster variable is All.
func TestDashboardAdoptionNumbers(t *testing.T) {
	var series []any
	for _, replica := range []string{"a", "b"} {
		series = append(series, adoptionInput(t, adoptionSeries, replica)...)
	}
	evalPanels(t, series, dashboardVars, adoptionWant)
}

// TestDashboardManyClusters: two clusters (cluster="east" and "west"), each with two replicas, run
// the same scenario: the same namespace names hold the same Pods in both. Each cluster shows what
// one cluster does; All shows both, twice the Pods; the un-injected namespace shows once per cluster.
func TestDashboardManyClusters(t *testing.T) {
	var series []any
	for _, cluster := range []string{"east", "west"} {
		clustered := strings.ReplaceAll(adoptionSeries, `instance="REPLICA"`, `cluster="`+cluster+`", instance="REPLICA"`)
		for _, replica := range []string{"a", "b"} {
			series = append(series, adoptionInput(t, clustered, replica)...)
		}
	}
	one := map[string]string{}
	maps.Copy(one, dashboardVars)
	one["cluster"] = "east"
	evalPanels(t, series, one, map[string]map[string]float64{
		"Workspaces by tilt-lib version": adoptionWant["Workspaces by tilt-lib version"],
		"Share by tilt-lib version":      adoptionWant["Share by tilt-lib version"],
		"Un-injected workspaces":         {`{cluster="east", namespace="team-b"}`: 1},
	})
	evalPanels(t, series, dashboardVars, map[string]map[string]float64{
		"Workspaces by tilt-lib version":  {`{configmap="tilt-lib-v2", version="2.0.1"}`: 6, `{configmap="tilt-lib", version="1.9.0"}`: 2, `{configmap="none"}`: 2},
		"Workspaces by templates version": {`{configmap="tilt-templates", version="1.1.0"}`: 8, `{configmap="none"}`: 2},
		"Un-injected workspaces":          {`{cluster="east", namespace="team-b"}`: 1, `{cluster="west", namespace="team-b"}`: 1},
		"Share on tilt-lib $newest_lib":   {`{}`: 0.6},
		"Stragglers: tilt-lib not on $newest_lib": {
			`{cluster="east", namespace="team-a", configmap="tilt-lib", version="1.9.0"}`: 1, `{cluster="east", namespace="team-b", configmap="none"}`: 1,
			`{cluster="west", namespace="team-a", configmap="tilt-lib", version="1.9.0"}`: 1, `{cluster="west", namespace="team-b", configmap="none"}`: 1,
		},
		"Published versions (namespaces holding each ConfigMap)": {`{component="tilt-lib", configmap="tilt-lib-v2", version="2.0.1"}`: 4},
	})
}

// Two replicas export the rollout gauges (replica b lags by one canary): rollout tilt-lib-v3 at
// target 50 has placed 10 tilt-lib Pods: 3 canary, 3 baseline, 2 pending, 1 reverted, 1 no_key.
// tilt-templates-v2 (target 0, rolled back) has 2 reverted and 2 baseline. Every arm of a rollout
// has a series, 0 when no Pod is in it (as pkg/adoption exports them). Another job's series must not
// count.
const rolloutSeries = `
- {series: 'tiltlib_rollout_percent{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3"}', values: '50x10'}
- {series: 'tiltlib_rollout_percent{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="baseline"}', values: '3x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="pending"}', values: '2x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="reverted"}', values: '1x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="no_key"}', values: '1x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="unavailable"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="reverted"}', values: '2x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="baseline"}', values: '2x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="canary"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="pending"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="no_key"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="REPLICA", rollout="tilt-templates-v2", component="tilt-templates", arm="unavailable"}', values: '0x10'}
- {series: 'tiltlib_rollout_workspaces{job="someone-else", instance="REPLICA", rollout="tilt-lib-v3", component="tilt-lib", arm="canary"}', values: '40x10'}
`

// TestDashboardRolloutNumbers: the Rollouts row over two replicas counts each Pod once: running
// share (canary + reverted), assigned share (canary + pending), the target, the Pods off their arm
// and every arm; with two clusters, All adds them up and the table keeps them apart.
func TestDashboardRolloutNumbers(t *testing.T) {
	canaries := map[string]string{
		"a": `- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="a", rollout="tilt-lib-v3", component="tilt-lib", arm="canary"}', values: '3x10'}`,
		"b": `- {series: 'tiltlib_rollout_workspaces{job="tilt-lib-injector", instance="b", rollout="tilt-lib-v3", component="tilt-lib", arm="canary"}', values: '2x10'}`,
	}
	input := func(clusters ...string) []any {
		var series []any
		for _, cluster := range clusters {
			for _, replica := range []string{"a", "b"} {
				list := rolloutSeries + canaries[replica] + "\n"
				if cluster != "" {
					list = strings.ReplaceAll(list, `instance="`, `cluster="`+cluster+`", instance="`)
				}
				series = append(series, adoptionInput(t, list, replica)...)
			}
		}
		return series
	}
	const lib, templates = `rollout="tilt-lib-v3", component="tilt-lib"`, `rollout="tilt-templates-v2", component="tilt-templates"`
	offArm := map[string]float64{
		"{" + lib + `, arm="pending"}`: 2, "{" + lib + `, arm="reverted"}`: 1, "{" + lib + `, arm="no_key"}`: 1, "{" + lib + `, arm="unavailable"}`: 0,
		"{" + templates + `, arm="reverted"}`: 2, "{" + templates + `, arm="pending"}`: 0, "{" + templates + `, arm="no_key"}`: 0,
		"{" + templates + `, arm="unavailable"}`: 0,
	}
	byArm := func(cluster string) map[string]float64 {
		c := ""
		if cluster != "" {
			c = `cluster="` + cluster + `", `
		}
		return map[string]float64{
			"{" + c + lib + `, arm="canary"}`: 3, "{" + c + lib + `, arm="baseline"}`: 3, "{" + c + lib + `, arm="pending"}`: 2,
			"{" + c + lib + `, arm="reverted"}`: 1, "{" + c + lib + `, arm="no_key"}`: 1, "{" + c + lib + `, arm="unavailable"}`: 0,
			"{" + c + templates + `, arm="reverted"}`: 2, "{" + c + templates + `, arm="baseline"}`: 2,
			"{" + c + templates + `, arm="canary"}`: 0, "{" + c + templates + `, arm="pending"}`: 0,
			"{" + c + templates + `, arm="no_key"}`: 0, "{" + c + templates + `, arm="unavailable"}`: 0,
		}
	}
	evalPanels(t, input(""), dashboardVars, map[string]map[string]float64{
		"Rollouts: canary share against target":            {"{" + lib + "}": 40, "{" + templates + "}": 50},
		"Rollouts: canary share against target|B":          {"{" + lib + "}": 50, "{" + templates + "}": 0},
		"Rollouts: canary share against target|C":          {`{rollout="tilt-lib-v3"}`: 50, `{rollout="tilt-templates-v2"}`: 0},
		"Rollouts: pending, reverted, no key, unavailable": offArm,
		"Rollouts: workspaces by arm":                      byArm(""),
	})
	twice := map[string]float64{}
	for k, v := range offArm {
		twice[k] = 2 * v
	}
	all := byArm("east")
	maps.Copy(all, byArm("west"))
	evalPanels(t, input("east", "west"), dashboardVars, map[string]map[string]float64{
		"Rollouts: canary share against target":            {"{" + lib + "}": 40, "{" + templates + "}": 50},
		"Rollouts: pending, reverted, no key, unavailable": twice,
		"Rollouts: workspaces by arm":                      all,
	})
}

// adoptionInput is one replica's copy of a series list (its REPLICA placeholder set).
func adoptionInput(t *testing.T, list, replica string) []any {
	t.Helper()
	var s []any
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(list, "REPLICA", replica)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// evalPanels has promtool evaluate the first query of each panel want names (or the query refId of
// a key "title|refId"), its variables set from vars, over the input series, and compare with want
// (labels → value, per panel title).
func evalPanels(t *testing.T, series []any, vars map[string]string, want map[string]map[string]float64) {
	t.Helper()
	_, d := readDashboard(t)
	var exprTests []any
	found := map[string]bool{}
	for _, p := range d.Panels {
		for i, tg := range p.Targets {
			key := p.Title // the first query; another one as "title|refId"
			if i > 0 {
				key += "|" + tg.RefID
			}
			w, ok := want[key]
			if !ok {
				continue
			}
			found[key] = true
			var samples []any
			for labels, v := range w {
				samples = append(samples, map[string]any{"labels": labels, "value": v})
			}
			exprTests = append(exprTests, map[string]any{"expr": expand(tg.Expr, vars), "eval_time": "5m", "exp_samples": samples})
		}
	}
	for title := range want {
		if !found[title] {
			t.Errorf("no panel %q", title)
		}
	}
	b, err := yaml.Marshal(map[string]any{
		"rule_files": []string{},
		"tests":      []any{map[string]any{"interval": "1m", "input_series": series, "promql_expr_test": exprTests}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard_test.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "dashboard_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules on the adoption panels (cluster %q): %v\n%s", vars["cluster"], err, out)
	}
}
