package harness

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// PanelQuery is one query target of a dashboard panel.
type PanelQuery struct {
	// Panel is the panel's title; Index the target's position in it (0: the first target).
	Panel string
	Index int
	Expr  string
}

// DashboardVariable is a Grafana template variable whose values come from a query.
type DashboardVariable struct {
	Name, Type string
	// Query is the variable's definition (e.g. label_values(tiltlib_build_info, namespace)).
	Query string
	// Sort is Grafana's sort of the values (0 none, 1/2 alphabetical asc/desc, 3/4 numerical,
	// 5/6 alphabetical case-insensitive, 7/8 natural asc/desc).
	Sort int
}

type grafanaPanel struct {
	Title   string         `json:"title"`
	Targets []grafanaQuery `json:"targets"`
	Panels  []grafanaPanel `json:"panels"` // a collapsed row holds its panels
}

type grafanaQuery struct {
	Expr *string `json:"expr"`
}

type grafanaDashboard struct {
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
			Sort  int             `json:"sort"`
		} `json:"list"`
	} `json:"templating"`
}

// DashboardQueries reads a Grafana dashboard's JSON and returns every panel target's expression
// (rows' nested panels included, in document order) and its template variables. A target
// without `expr` is an error: the contract says every target has one.
func DashboardQueries(data []byte) ([]PanelQuery, []DashboardVariable, error) {
	var d grafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, nil, fmt.Errorf("dashboard JSON: %w", err)
	}
	var out []PanelQuery
	var walk func([]grafanaPanel) error
	walk = func(panels []grafanaPanel) error {
		for _, p := range panels {
			for i, t := range p.Targets {
				if t.Expr == nil || strings.TrimSpace(*t.Expr) == "" {
					return fmt.Errorf("panel %q target %d has no expr", p.Title, i)
				}
				out = append(out, PanelQuery{Panel: p.Title, Index: i, Expr: *t.Expr})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, nil, err
	}
	var vars []DashboardVariable
	for _, v := range d.Templating.List {
		dv := DashboardVariable{Name: v.Name, Type: v.Type, Sort: v.Sort}
		if len(v.Query) > 0 {
			// Grafana writes the query as a string or as {"query": "...", "refId": ...}.
			var s string
			var obj struct {
				Query string `json:"query"`
			}
			switch {
			case json.Unmarshal(v.Query, &s) == nil:
				dv.Query = s
			case json.Unmarshal(v.Query, &obj) == nil:
				dv.Query = obj.Query
			default:
				return nil, nil, fmt.Errorf("variable %s: query is neither a string nor an object", v.Name)
			}
		}
		vars = append(vars, dv)
	}
	return out, vars, nil
}

// SortOptions orders a variable's values as its Grafana sort says: natural order (digit runs
// compared as numbers, so 1.10.0 comes after 1.9.0) for 7/8, byte order otherwise, descending
// for the even sorts. Grafana selects the first by default.
func SortOptions(options []string, sort int) {
	if sort == 7 || sort == 8 {
		slices.SortFunc(options, naturalCompare)
	} else {
		slices.Sort(options)
	}
	if sort > 0 && sort%2 == 0 {
		slices.Reverse(options)
	}
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// labelValues matches Grafana's label_values(<selector>, <label>).
var labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// LabelValuesQuery splits a variable query label_values(<selector>, <label>) into the PromQL
// selector (which Prometheus can evaluate) and the label; ok is false for any other form.
func LabelValuesQuery(q string) (selector, label string, ok bool) {
	m := labelValues.FindStringSubmatch(q)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// RuleExpr is one rule of a rule file.
type RuleExpr struct {
	Group string
	// Name is the alert's or the recorded series' name.
	Name string
	Expr string
}

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert  string `json:"alert"`
			Record string `json:"record"`
			Expr   string `json:"expr"`
		} `json:"rules"`
	} `json:"groups"`
}

// PrometheusRuleFile finds the PrometheusRule in a rendered manifest stream (helm template's
// output) and returns its spec as a Prometheus rule file (`groups:`) and its rules. Exactly one
// PrometheusRule must be there.
func PrometheusRuleFile(manifests []byte) ([]byte, []RuleExpr, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	var spec json.RawMessage
	found := 0
	for {
		var obj struct {
			Kind string          `json:"kind"`
			Spec json.RawMessage `json:"spec"`
		}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, fmt.Errorf("decoding manifests: %w", err)
		}
		if obj.Kind == "PrometheusRule" {
			found++
			spec = obj.Spec
		}
	}
	if found != 1 {
		return nil, nil, fmt.Errorf("manifests hold %d PrometheusRule, want exactly 1", found)
	}
	var rf ruleFile
	if err := json.Unmarshal(spec, &rf); err != nil {
		return nil, nil, fmt.Errorf("PrometheusRule spec: %w", err)
	}
	var rules []RuleExpr
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			rules = append(rules, RuleExpr{Group: g.Name, Name: r.Alert + r.Record, Expr: r.Expr})
		}
	}
	file, err := yaml.JSONToYAML(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("PrometheusRule spec to YAML: %w", err)
	}
	return file, rules, nil
}
