package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func closed(rps ...float64) []ClosedResult {
	var out []ClosedResult
	for _, r := range rps {
		out = append(out, ClosedResult{OK: int(r), Elapsed: time.Second})
	}
	return out
}

// Ratios are taken inside each round, then summarised: with the machine twice as fast in
// round 2, ours is still exactly 2× empty and 4× naive, which a ratio of medians over uneven
// rounds would not show as a single value.
func TestClosedTableRatiosPerRound(t *testing.T) {
	cfg := Config{Sizes: []string{"6KB"}, Conns: []int{8}, Rounds: 3}
	res := newResults()
	res.Closed[closedCase("6KB", 8)] = map[string][]ClosedResult{
		armEmpty: closed(1000, 2000, 1100),
		armNaive: closed(500, 1000, 550),
		armOurs:  closed(2000, 4000, 2200),
	}
	tb := closedTable(cfg, res)
	if len(tb.Rows) != 1 {
		t.Fatalf("rows: %v", tb.Rows)
	}
	row := strings.Join(tb.Rows[0], " | ")
	want := "6KB | 8 | 1,100 (1,000–2,000) | 550 (500–1,000) | 2,200 (2,000–4,000) | 2.00× | 4.00× | 0"
	if row != want {
		t.Errorf("row\n got %s\nwant %s", row, want)
	}
}

func TestCreateTablesShareOfOurs(t *testing.T) {
	cr := func(p50s ...int) []CreateResult {
		var out []CreateResult
		for _, p := range p50s {
			out = append(out, CreateResult{Latencies: Latencies{P50: ms(p), P99: ms(2 * p), N: 1}})
		}
		return out
	}
	res := newResults()
	res.Create[armNone] = cr(3, 3, 3)
	res.Create[armEmpty] = cr(5, 5, 5)
	res.Create[armFloor] = cr(5, 6, 6)
	res.Create[armConstant] = cr(6, 8, 6)
	res.Create[armOurs] = cr(6, 9, 7)
	tables := createTables(Config{Pods: 1, Rounds: 3, CreateSize: "6KB"}, res)
	if len(tables) != 2 || len(tables[0].Rows) != 5 {
		t.Fatalf("tables: %+v", tables)
	}
	if got := strings.Join(tables[0].Rows[4], " | "); got != "ours | 7.00 (6.00–9.00) | 14.00 (12.00–18.00) | 0" {
		t.Errorf("ours row: %s", got)
	}
	// Per round: 6/6, 9/8, 7/6; ours − constant: 0, 1, 1 ms; ours − floor: 1, 3, 1 ms;
	// ours / empty: 1.2, 1.8, 1.4.
	if got := strings.Join(tables[1].Rows[0], " | "); got != "1.12× (1.00×–1.17×) | 1.00 (0.00–1.00) | 1.00 (1.00–3.00) | 1.40× (1.20×–1.80×)" {
		t.Errorf("ratios: %s", got)
	}
}

func TestReportRendersErrors(t *testing.T) {
	r := Report{Machine: Machine{CPU: "cpu", Cores: 2, Go: "go1.26", LoadAvg: "1 1 1"}, Command: "make loadtest",
		Tables: []Table{{Title: "T", Header: []string{"a"}}}, Errors: []string{"closed 6KB × 1 ours round 1: 3 failed, first: HTTP 500"},
		Notes: []string{"open 2000 rps ours round 1: 9 of 4000 not admitted, first: HTTP 429"}}
	for name, out := range map[string]string{"text": r.Text(), "markdown": r.Markdown()} {
		for _, want := range []string{"cpu, 2 cores, go1.26", "Command: make loadtest", "T", "error: closed 6KB × 1 ours round 1: 3 failed, first: HTTP 500",
			"note: open 2000 rps ours round 1: 9 of 4000"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q:\n%s", name, want, out)
			}
		}
	}
}

func TestOpenVerdict(t *testing.T) {
	shedErr := errors.New("HTTP 429")
	for _, c := range []struct {
		r      OpenResult
		failed int
		shed   string
	}{
		{OpenResult{Sent: 100, OK: 100}, 0, ""},
		{OpenResult{Sent: 100, OK: 80, FirstErr: shedErr}, 0, "20 of 100 not admitted, first: HTTP 429"},
		{OpenResult{Sent: 100, OK: 0, FirstErr: shedErr}, 100, ""},
		{OpenResult{FirstErr: shedErr}, 1, ""}, // the warm-up failed: nothing sent
	} {
		failed, shed := openVerdict(c.r)
		if failed != c.failed || shed != c.shed {
			t.Errorf("%+v: failed %d, shed %q; want %d, %q", c.r, failed, shed, c.failed, c.shed)
		}
	}
}
