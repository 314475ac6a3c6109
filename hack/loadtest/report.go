package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Results are the measurements of a run, per case and arm, one entry per round in round order.
type Results struct {
	Closed map[string]map[string][]ClosedResult
	Open   map[string]map[string][]OpenResult
	Create map[string][]CreateResult
}

func newResults() *Results {
	return &Results{Closed: map[string]map[string][]ClosedResult{}, Open: map[string]map[string][]OpenResult{}, Create: map[string][]CreateResult{}}
}

// closedCase names a closed-loop case: body size and connections.
func closedCase(size string, conns int) string { return size + " × " + strconv.Itoa(conns) }

// openCase names an open-loop case.
func openCase(rate int) string { return strconv.Itoa(rate) + " rps" }

// closedArms and openArms are the arms of the direct sections, createArms of the Pod creations.
var (
	closedArms = []string{armEmpty, armNaive, armOurs}
	createArms = []string{armNone, armEmpty, armFloor, armConstant, armOurs}
)

// perRound maps f over rounds.
func perRound[T any](rs []T, f func(T) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// ratios are a[i]/b[i] for the rounds both have, skipping rounds where b is zero: the ratio
// is taken inside a round (arms measured back to back), then summarised over rounds.
func ratios(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// differences are a[i]−b[i] for the rounds both have.
func differences(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		out = append(out, a[i]-b[i])
	}
	return out
}

func rps(r ClosedResult) float64 { return r.RPS() }

// ratioCell is the median and range over rounds of a per-round ratio.
func ratioCell(a, b []float64) string {
	s := SpreadOf(ratios(a, b))
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 || s.Min == s.Max {
		return Times(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", Times(s.Median), Times(s.Min), Times(s.Max))
}

func closedTable(cfg Config, res *Results) Table {
	t := Table{
		Title: "Closed loop over TLS: admitted reviews per second",
		Note: fmt.Sprintf("Each connection sends its next review when the previous answer is read; %s or %d reviews per arm and round, whichever first; %d interleaved round(s); median (range) over rounds. Ratios are taken inside each round.",
			cfg.ClosedTime, cfg.ClosedMax, cfg.Rounds),
		Header: []string{"review body", "conns", "empty rps", "naive rps", "ours rps", "ours / empty", "ours / naive", "failed"},
	}
	for _, size := range cfg.Sizes {
		for _, conns := range cfg.Conns {
			arms := res.Closed[closedCase(size, conns)]
			if arms == nil {
				continue
			}
			e, n, o := perRound(arms[armEmpty], rps), perRound(arms[armNaive], rps), perRound(arms[armOurs], rps)
			failed := 0
			for _, a := range closedArms {
				for _, r := range arms[a] {
					failed += r.Failed
				}
			}
			t.Rows = append(t.Rows, []string{size, strconv.Itoa(conns), Rate(SpreadOf(e)), Rate(SpreadOf(n)), Rate(SpreadOf(o)),
				ratioCell(o, e), ratioCell(o, n), strconv.Itoa(failed)})
		}
	}
	return t
}

func openTable(cfg Config, res *Results) Table {
	t := Table{
		Title: fmt.Sprintf("Open loop over TLS at %s: latency from the scheduled send time (no coordinated omission)", cfg.OpenSize),
		Note: fmt.Sprintf("Reviews leave on a fixed schedule for %s per arm and round, each on its own goroutine, over at most %d connections (waiting for one counts); a review unanswered after %s is not admitted (the registration's timeout); %d interleaved round(s); median (range) over rounds, in ms.",
			cfg.OpenTime, cfg.OpenConns, requestTimeout, cfg.Rounds),
		Header: []string{"rate", "arm", "p50 ms", "p99 ms", "max ms", "admitted"},
	}
	p := func(f func(Latencies) time.Duration) func(OpenResult) float64 {
		return func(r OpenResult) float64 { return seconds(f(r.Latencies)) }
	}
	for _, rate := range cfg.Rates {
		arms := res.Open[openCase(rate)]
		if arms == nil {
			continue
		}
		for _, a := range closedArms {
			rs := arms[a]
			t.Rows = append(t.Rows, []string{openCase(rate), a,
				Millis(SpreadOf(perRound(rs, p(func(l Latencies) time.Duration { return l.P50 })))),
				Millis(SpreadOf(perRound(rs, p(func(l Latencies) time.Duration { return l.P99 })))),
				Millis(SpreadOf(perRound(rs, p(func(l Latencies) time.Duration { return l.Max })))),
				Percent(SpreadOf(perRound(rs, OpenResult.SuccessRate)))})
		}
	}
	return t
}

func createTables(cfg Config, res *Results) []Table {
	t := Table{
		Title: "Pod create through the API server",
		Note: fmt.Sprintf("%d sequential creations of the %s workspace Pod per arm and round (failurePolicy Fail; every stored Pod checked: injected by ours, constant and floor only); %d interleaved round(s); median (range) over rounds, in ms. "+
			"constant: controller-runtime's admission.Webhook returning our patch; floor: the same patch from a bare handler (read the body, take the UID, write a prebuilt answer).",
			cfg.Pods, cfg.CreateSize, cfg.Rounds),
		Header: []string{"arm", "p50 ms", "p99 ms", "failed"},
	}
	p50 := func(r CreateResult) float64 { return seconds(r.P50) }
	p99 := func(r CreateResult) float64 { return seconds(r.P99) }
	for _, a := range createArms {
		rs := res.Create[a]
		failed := 0
		for _, r := range rs {
			failed += r.Failed
		}
		t.Rows = append(t.Rows, []string{a, Millis(SpreadOf(perRound(rs, p50))), Millis(SpreadOf(perRound(rs, p99))), strconv.Itoa(failed)})
	}
	ours, constant, floor, empty := perRound(res.Create[armOurs], p50), perRound(res.Create[armConstant], p50),
		perRound(res.Create[armFloor], p50), perRound(res.Create[armEmpty], p50)
	r := Table{
		Title:  "Pod create: ratios at p50",
		Note:   "Per round, then median (range) over rounds. Goal (docs/benchmarks.md, Goals): ours within 5% of constant-patch (ratio ≤ 1.05); ours − floor is all of our share.",
		Header: []string{"ours / constant-patch", "ours − constant-patch ms", "ours − floor ms", "ours / empty"},
		Rows: [][]string{{ratioCell(ours, constant), Millis(SpreadOf(differences(ours, constant))),
			Millis(SpreadOf(differences(ours, floor))), ratioCell(ours, empty)}},
	}
	return []Table{t, r}
}

// Report is the whole output: the header lines, then every table of the sections that ran.
type Report struct {
	Machine Machine
	Command string
	Started time.Time
	Elapsed time.Duration
	Tables  []Table
	Notes   []string // facts that are results, not failures (e.g. reviews shed by an overloaded arm)
	Errors  []string
	// Results are the measurements the tables summarise.
	Results *Results
}

func (r Report) header() []string {
	return []string{
		"Machine: " + r.Machine.String(),
		"Command: " + r.Command,
		fmt.Sprintf("Started %s, took %s. All traffic on loopback; the load generator shares the machine with the arms.",
			r.Started.UTC().Format(time.RFC3339), r.Elapsed.Round(time.Second)),
	}
}

// Text is the terminal rendering.
func (r Report) Text() string {
	var b strings.Builder
	for _, h := range r.header() {
		fmt.Fprintln(&b, h)
	}
	for _, t := range r.Tables {
		fmt.Fprintln(&b)
		b.WriteString(t.Text())
	}
	for _, n := range r.Notes {
		fmt.Fprintln(&b, "note:", n)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(&b, "error:", e)
	}
	return b.String()
}

// Markdown is the rendering for docs/benchmarks.md.
func (r Report) Markdown() string {
	var b strings.Builder
	for _, h := range r.header() {
		fmt.Fprintf(&b, "%s  \n", h)
	}
	for _, t := range r.Tables {
		fmt.Fprintln(&b)
		b.WriteString(t.Markdown())
	}
	if len(r.Errors)+len(r.Notes) > 0 {
		fmt.Fprintln(&b)
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- note: %s\n", n)
		}
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- error: %s\n", e)
		}
	}
	return b.String()
}
