package charttest

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dashboardFile = "../../charts/tilt-lib-injector/dashboards/tilt-lib-injector.json"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *dsRef          `json:"datasource"`
			Hide       int             `json:"hide"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
			AllValue   string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int                      `json:"id"`
		Type       string                   `json:"type"`
		Title      string                   `json:"title"`
		Datasource *dsRef                   `json:"datasource"`
		GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
		Targets    []struct {
			Expr       string `json:"expr"`
			RefID      string `json:"refId"`
			Datasource *dsRef `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) ([]byte, dashboard) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	return b, d
}

// The adoption panels of the contract, exact titles and first queries (re-declared as the oracle:
// the e2e suite evaluates these against the scenarios' Pods).
var adoptionPanels = map[string]string{
	"Workspaces by tilt-lib version":  `sum by (configmap, version) (max by (${cluster_label}, namespace, component, configmap, version) (tiltlib_workspace_pods{job="$job", ${cluster_label}=~"$cluster", component="tilt-lib", namespace=~"$workspace_namespace"}))`,
	"Workspaces by templates version": `sum by (configmap, version) (max by (${cluster_label}, namespace, component, configmap, version) (tiltlib_workspace_pods{job="$job", ${cluster_label}=~"$cluster", component="tilt-templates", namespace=~"$workspace_namespace"}))`,
	"Un-injected workspaces":          `sum by (${cluster_label}, namespace) (max by (${cluster_label}, namespace, component, configmap, version) (tiltlib_workspace_pods{job="$job", ${cluster_label}=~"$cluster", component="tilt-lib", configmap="none", namespace=~"$workspace_namespace"}))`,
}

// clusterSelected is the matcher every metric read of the dashboard carries besides the job: the
// cluster variable over the cluster label (docs/design.md, Many clusters).
const clusterSelected = `${cluster_label}=~"$cluster"`

// withClusterLabel writes the dashboard's cluster label variable as the chart's default label, so that
// the PromQL checkers (which read label names, not Grafana variables) can read the expression.
func withClusterLabel(expr string) string {
	return strings.ReplaceAll(expr, "${cluster_label}", "cluster")
}

// distributorJob selects the distributor's series: the chart names its Service (the job) after the
// webhook's, plus -distribute.
const distributorJob = `job="$job-distribute"`

// isDistributor: a metric `webhook distribute` exports, not the webhook.
func isDistributor(name string) bool { return strings.HasPrefix(name, "tiltlib_distribute_") }

func not(f func(string) bool) func(string) bool { return func(s string) bool { return !f(s) } }

// Grafana variables a query may use besides the dashboard's own; $__range and $__interval are not
// among them (the e2e suite evaluates the queries with only $__rate_interval substituted).
var builtinVariables = []string{"__rate_interval"}

var variableRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// TestDashboard: the dashboard is a Grafana dashboard whose every panel queries the templated
// datasource, with the contract's variables, queries that use only defined variables, contract
// metrics only, the adoption gauges through max, and the contract's adoption panels.
func TestDashboard(t *testing.T) {
	_, d := readDashboard(t)
	if d.UID != "tilt-lib-injector" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q, title %q, schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	defined := slices.Clone(builtinVariables)
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		defined = append(defined, v.Name)
		vars[v.Name] = i
	}
	for _, name := range []string{"datasource", "cluster_label", "cluster", "namespace", "job", "workspace_namespace"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("no variable %s", name)
		}
	}
	usesOnly := func(where, s string) {
		for _, m := range variableRef.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(defined, m[1]) {
				t.Errorf("%s uses undefined variable $%s", where, m[1])
			}
		}
	}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			if v.Name != "datasource" || string(v.Query) != `"prometheus"` {
				t.Errorf("datasource variable %s query %s", v.Name, v.Query)
			}
		case "query":
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s: datasource %+v", v.Name, v.Datasource)
			}
			usesOnly("variable "+v.Name, v.Definition)
			usesOnly("variable "+v.Name, string(v.Query))
			// label_values(<series selector>, <label>): the selector is the query.
			sel, ok := strings.CutPrefix(v.Definition, "label_values(")
			if i := strings.LastIndex(sel, ","); ok && i > 0 {
				sel = sel[:i]
			}
			names, problems := metricNames(withClusterLabel(sel))
			for _, p := range problems {
				t.Errorf("variable %s: %s (%v)", v.Name, p, names)
			}
			// Every variable but the cluster's own offers only what the selected clusters have.
			if v.Name != "cluster" && !strings.Contains(sel, clusterSelected) {
				t.Errorf("variable %s: %q does not select %s", v.Name, v.Definition, clusterSelected)
			}
		case "constant":
			// The cluster label: hidden, the chart's default, and the one string the chart rewrites.
			if v.Name != "cluster_label" || string(v.Query) != `"cluster"` || v.Hide != 2 {
				t.Errorf("constant variable %s: query %s, hide %d", v.Name, v.Query, v.Hide)
			}
		default:
			t.Errorf("variable %s of type %s", v.Name, v.Type)
		}
	}
	if ws := d.Templating.List[vars["workspace_namespace"]]; !ws.Multi || !ws.IncludeAll || ws.AllValue != ".*" {
		t.Errorf("workspace_namespace: multi %v, includeAll %v, allValue %q", ws.Multi, ws.IncludeAll, ws.AllValue)
	}
	// All must match a series without the label too: a single cluster's series have none.
	if c := d.Templating.List[vars["cluster"]]; !c.Multi || !c.IncludeAll || c.AllValue != ".*" || c.Definition != "label_values(tiltlib_build_info, ${cluster_label})" {
		t.Errorf("cluster: multi %v, includeAll %v, allValue %q, definition %q", c.Multi, c.IncludeAll, c.AllValue, c.Definition)
	}

	ids := map[int]bool{}
	firstExpr := map[string]string{}
	for _, p := range d.Panels {
		where := "panel " + p.Title
		if ids[p.ID] {
			t.Errorf("%s: duplicate id %d", where, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: gridPos %+v", where, p.GridPos)
		}
		usesOnly(where, p.Title)
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("%s: datasource %+v, %d targets", where, p.Datasource, len(p.Targets))
			continue
		}
		firstExpr[p.Title] = p.Targets[0].Expr
		for _, tg := range p.Targets {
			w := where + " " + tg.RefID
			if tg.Expr == "" || tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("%s: expr %q, datasource %+v", w, tg.Expr, tg.Datasource)
				continue
			}
			usesOnly(w, tg.Expr)
			expr := withClusterLabel(tg.Expr)
			metrics, problems := metricNames(expr)
			problems = append(problems, maxFirst(expr)...)
			problems = append(problems, jobSelected(expr, `job="$job"`, slices.DeleteFunc(slices.Clone(metrics), isDistributor))...)
			problems = append(problems, jobSelected(expr, distributorJob, slices.DeleteFunc(slices.Clone(metrics), not(isDistributor)))...)
			problems = append(problems, jobSelected(expr, withClusterLabel(clusterSelected), metrics)...)
			for _, p := range problems {
				t.Errorf("%s: %s", w, p)
			}
		}
	}
	for title, want := range adoptionPanels {
		if got, ok := firstExpr[title]; got != want {
			t.Errorf("panel %q (present: %v): first query\n got %q\nwant %q", title, ok, got, want)
		}
	}
}

// TestDashboardConfigMap: the chart's dashboard ConfigMap carries the file byte for byte, with the
// sidecar's label.
func TestDashboardConfigMap(t *testing.T) {
	b, _ := readDashboard(t)
	out, err := template(t, "--set", "grafanaDashboard.enabled=true", "--set", "grafanaDashboard.annotations.grafana_folder=Platform")
	if err != nil {
		t.Fatal(err)
	}
	cm := parse(t, out)["ConfigMap/"+releaseName+"-dashboard"]
	if cm == nil {
		t.Fatal("no dashboard ConfigMap")
	}
	data, _ := cm.Object["data"].(map[string]any)
	// parse splits documents on "\n---", which takes the block scalar's final newline with it.
	if got, _ := data["tilt-lib-injector.json"].(string); strings.TrimSuffix(got, "\n") != strings.TrimSuffix(string(b), "\n") {
		t.Errorf("the ConfigMap's tilt-lib-injector.json differs from dashboards/tilt-lib-injector.json (%d bytes, want %d)", len(got), len(b))
	}
	if cm.GetLabels()["grafana_dashboard"] != "1" || cm.GetAnnotations()["grafana_folder"] != "Platform" {
		t.Errorf("labels %v, annotations %v", cm.GetLabels(), cm.GetAnnotations())
	}
}

// TestClusterLabelValue: clusterLabel reaches every max/min of the rules and the dashboard's hidden
// cluster_label constant, and nothing else of the dashboard changes.
func TestClusterLabelValue(t *testing.T) {
	_, g := renderRules(t, releaseName, "--set", "clusterLabel=region")
	grouped := 0
	for _, r := range g.Groups[0].Rules {
		for _, agg := range []string{"max by (", "min by (", "sum by ("} {
			for rest := r.Expr; strings.Contains(rest, agg); {
				rest = rest[strings.Index(rest, agg)+len(agg):]
				grouped++
				if !strings.HasPrefix(rest, "region, ") && !strings.HasPrefix(rest, "region)") {
					t.Errorf("%s: %q groups without region: %q", r.Alert, agg, r.Expr)
				}
			}
		}
		if strings.Contains(r.Expr, "max(") || strings.Contains(r.Expr, "min(") {
			t.Errorf("%s: max/min over every cluster: %q", r.Alert, r.Expr)
		}
	}
	if grouped < 6 {
		t.Errorf("only %d grouped aggregations in the rules", grouped)
	}
	// The schema's bound (schema_test.go refuses 129 characters) admits 128.
	if _, err := template(t, "--set", "prometheusRule.enabled=true", "--set", "clusterLabel="+strings.Repeat("c", 128)); err != nil {
		t.Errorf("a 128-character cluster label: %v", err)
	}
	b, _ := readDashboard(t)
	out, err := template(t, "--set", "grafanaDashboard.enabled=true", "--set", "clusterLabel=region")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := parse(t, out)["ConfigMap/"+releaseName+"-dashboard"].Object["data"].(map[string]any)
	got, _ := data["tilt-lib-injector.json"].(string)
	want := strings.Replace(string(b), `"query": "cluster",`, `"query": "region",`, 1)
	if strings.TrimSuffix(got, "\n") != strings.TrimSuffix(want, "\n") || got == string(b) {
		t.Errorf("the dashboard with clusterLabel=region is not the file with cluster_label = region (%d bytes)", len(got))
	}
}
