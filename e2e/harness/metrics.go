package harness

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Counters the e2e suite accounts for exactly.
const (
	InjectionsTotal = "tiltlib_injections_total"
	ReviewsTotal    = "tiltlib_admission_reviews_total"
	EnvboxTotal     = "tiltlib_envbox_mounts_total"
)

// Series names one time series: a metric name and its labels.
type Series struct {
	Name   string
	Labels map[string]string
}

// Key renders the series the way Prometheus prints it, with labels sorted: a stable map key.
func (s Series) Key() string {
	names := slices.Sorted(maps.Keys(s.Labels))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, s.Labels[n])
	}
	return s.Name + "{" + strings.Join(parts, ",") + "}"
}

// Injection is the tiltlib_injections_total series of one component.
func Injection(component, configMap, version, source string) Series {
	return Series{InjectionsTotal, map[string]string{
		"component": component, "configmap": configMap, "version": version, "source": source,
	}}
}

// Review is the tiltlib_admission_reviews_total series of one result and reason.
func Review(result, reason string) Series {
	return Series{ReviewsTotal, map[string]string{"result": result, "reason": reason}}
}

// EnvboxMounts is the tiltlib_envbox_mounts_total series of one result.
func EnvboxMounts(result string) Series {
	return Series{EnvboxTotal, map[string]string{"result": result}}
}

// Snapshot is one scrape: the value of every counter and gauge sample, by Series.Key.
type Snapshot struct {
	Values map[string]float64
	// Families is the parsed scrape, for callers that print or inspect it.
	Families map[string]*dto.MetricFamily
}

// Get returns the value of s (0 when absent: a counter that never moved is not exported).
func (sn Snapshot) Get(s Series) float64 { return sn.Values[s.Key()] }

// Scrape reads http://addr/metrics and parses the Prometheus text format.
func Scrape(ctx context.Context, addr string) (Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics request: %w", err)
	}
	resp, err := loopbackHTTP.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("scraping %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Snapshot{}, fmt.Errorf("scraping %s: HTTP %d", addr, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return Snapshot{}, fmt.Errorf("parsing metrics from %s: %w", addr, err)
	}
	sn := Snapshot{Values: map[string]float64{}, Families: families}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Untyped != nil:
				v = m.Untyped.GetValue()
			default:
				continue // histograms and summaries are not accounted here
			}
			sn.Values[Series{name, labels}.Key()] = v
		}
	}
	return sn, nil
}

// Lines returns the samples of the named metrics as "name{labels} value" lines, sorted.
func (sn Snapshot) Lines(names ...string) []string {
	var out []string
	for key, v := range sn.Values {
		for _, n := range names {
			if strings.HasPrefix(key, n+"{") {
				out = append(out, fmt.Sprintf("%s %g", key, v))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Expect is a set of expected counter increments.
type Expect map[string]float64

// Add expects s to grow by n.
func (e Expect) Add(s Series, n float64) Expect {
	e[s.Key()] += n
	return e
}

// Merge adds every increment of o.
func (e Expect) Merge(o Expect) {
	for k, v := range o {
		e[k] += v
	}
}

// Mismatches compares after-before, over every series of names, with e: any series whose delta
// differs from what e expects (0 when e does not mention it) is reported. Empty means exact.
func (e Expect) Mismatches(before, after Snapshot, names ...string) []string {
	keys := map[string]bool{}
	for _, sn := range []Snapshot{before, after} {
		for k := range sn.Values {
			keys[k] = true
		}
	}
	for k := range e {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !hasName(k, names) {
			continue
		}
		if got, want := after.Values[k]-before.Values[k], e[k]; got != want {
			out = append(out, fmt.Sprintf("%s: delta %g, want %g", k, got, want))
		}
	}
	sort.Strings(out)
	return out
}

func hasName(key string, names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(key, n+"{") {
			return true
		}
	}
	return false
}
