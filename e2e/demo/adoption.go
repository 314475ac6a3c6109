package main

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	dto "github.com/prometheus/client_model/go"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// podsGauge is the adoption gauge (docs/design.md, Adoption): live workspace Pods by namespace,
// component, ConfigMap and version.
const podsGauge = "tiltlib_workspace_pods"

// components in the order the demo prints them.
var components = []string{"tilt-lib", "tilt-templates"}

// notMounted are the gauge's configmap values that name no ConfigMap, printed after the real ones.
var notMounted = map[string]string{
	"none":    "not injected",
	"skipped": "reviewed, nothing mounted",
	"missing": "its ConfigMap is gone",
}

// podsSample is one series of podsGauge.
type podsSample struct {
	Namespace, Component, ConfigMap, Version string
	Pods                                     float64
}

// share is one line of a component's adoption: Pods on one ConfigMap at one version.
type share struct {
	ConfigMap, Version string
	Pods               int
}

// adoption is what the dashboard's adoption panels show for one component.
type adoption struct {
	Component string
	Shares    []share // real ConfigMaps by Pods (most first), then none/skipped/missing
	Total     int
	// Uninjected counts the component's configmap="none" Pods by namespace (the straggler panel).
	Uninjected map[string]int
}

// podsSamples reads podsGauge from one scrape.
func podsSamples(families map[string]*dto.MetricFamily) []podsSample {
	var out []podsSample
	for _, m := range families[podsGauge].GetMetric() {
		s := podsSample{Pods: m.GetGauge().GetValue()}
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "namespace":
				s.Namespace = l.GetValue()
			case "component":
				s.Component = l.GetValue()
			case "configmap":
				s.ConfigMap = l.GetValue()
			case "version":
				s.Version = l.GetValue()
			}
		}
		out = append(out, s)
	}
	return out
}

// adoptionOf aggregates samples as the dashboard's queries do: sum by (configmap, version) per
// component. (The dashboard first takes max across replicas; the demo scrapes its one replica.)
func adoptionOf(samples []podsSample) []adoption {
	var out []adoption
	for _, c := range components {
		a := adoption{Component: c, Uninjected: map[string]int{}}
		pods := map[share]int{}
		for _, s := range samples {
			if s.Component != c || s.Pods == 0 {
				continue
			}
			n := int(s.Pods)
			pods[share{ConfigMap: s.ConfigMap, Version: s.Version}] += n
			a.Total += n
			if s.ConfigMap == "none" {
				a.Uninjected[s.Namespace] += n
			}
		}
		for k, n := range pods {
			a.Shares = append(a.Shares, share{ConfigMap: k.ConfigMap, Version: k.Version, Pods: n})
		}
		slices.SortFunc(a.Shares, func(x, y share) int {
			_, xSpecial := notMounted[x.ConfigMap]
			_, ySpecial := notMounted[y.ConfigMap]
			switch {
			case xSpecial != ySpecial:
				if xSpecial {
					return 1
				}
				return -1
			case x.Pods != y.Pods:
				return y.Pods - x.Pods
			}
			return cmp.Or(strings.Compare(x.ConfigMap, y.ConfigMap), strings.Compare(x.Version, y.Version))
		})
		out = append(out, a)
	}
	return out
}

// barWidth is the width of a share's bar at 100%.
const barWidth = 20

// bar renders n of total as '#' over barWidth, rounded, the rest '.'.
func bar(n, total int) string {
	full := 0
	if total > 0 {
		full = int(math.Round(float64(n) * barWidth / float64(total)))
	}
	return strings.Repeat("#", full) + strings.Repeat(".", barWidth-full)
}

// percent is n of total in whole percent, rounded half away from zero like the bar.
func percent(n, total int) int {
	if total == 0 {
		return 0
	}
	return int(math.Round(float64(n) * 100 / float64(total)))
}

// adoptionQuery is the first query of the dashboard panel "Workspaces by <component> version",
// with every workspace namespace selected.
func adoptionQuery(job, component string) string {
	return fmt.Sprintf(`sum by (configmap, version) (max by (namespace, component, configmap, version) `+
		`(tiltlib_workspace_pods{job=%q, component=%q, namespace=~".*"}))`, job, component)
}

// renderAdoption writes the demo's closing section: per component one line per ConfigMap/version
// with its count, share and bar, the stragglers, and the kubectl and PromQL that give the same
// numbers. Pure: the same input gives the same text.
func renderAdoption(adoptions []adoption, job string) string {
	var b strings.Builder
	for _, a := range adoptions {
		fmt.Fprintf(&b, "  %s: %d workspace Pods\n", a.Component, a.Total)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, s := range a.Shares {
			version := cmp.Or(s.Version, "-")
			note := ""
			if why, ok := notMounted[s.ConfigMap]; ok {
				note = "  <- " + why
			}
			fmt.Fprintf(tw, "    %s\t%s\t%d\t%3d%%\t%s%s\n", s.ConfigMap, version, s.Pods,
				percent(s.Pods, a.Total), bar(s.Pods, a.Total), note)
		}
		_ = tw.Flush()
		fmt.Fprintf(&b, "    PromQL: %s\n", adoptionQuery(job, a.Component))
	}
	var stragglers []string
	total := 0
	for _, a := range adoptions {
		if a.Component != "tilt-lib" {
			continue
		}
		for _, ns := range slices.Sorted(maps.Keys(a.Uninjected)) {
			stragglers = append(stragglers, fmt.Sprintf("%d in %s", a.Uninjected[ns], ns))
			total += a.Uninjected[ns]
		}
	}
	if total == 0 {
		b.WriteString("  Stragglers: none, every workspace Pod was injected.\n")
	} else {
		fmt.Fprintf(&b, "  Stragglers: %d workspace Pod(s) never injected (configmap=\"none\"): %s.\n", total, strings.Join(stragglers, ", "))
		b.WriteString("    They get the mounts when they are recreated; alert TiltLibWorkspacesNotInjected fires after 15m.\n")
	}
	// The version labels are the ConfigMap each Pod mounts, as the gauge counts it; the gauge's
	// "missing" are the Pods whose mounted ConfigMap does not exist now, which a label cannot say.
	b.WriteString("  What each Pod mounts, from its labels (blank: never injected; requested-*: what it asked for):\n")
	fmt.Fprintf(&b, "    kubectl get pods -A -l %s=%s -L %s,%s,%s,%s\n", harness.WorkspaceLabel, harness.WorkspaceValue,
		harness.KeyVersion, harness.KeyTemplatesVersion, harness.KeyRequestedVersion, harness.KeyRequestedTemplatesVersion)
	return b.String()
}
