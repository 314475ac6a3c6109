//go:build e2e

package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// testLog sends the run's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSmoke runs the whole of `make loadtest` at a tiny scale: the control plane, the real
// `webhook serve`, the three comparison arms, every section. Each arm must answer every review
// and create of the bounded counts (no failures: run refuses them), and the report must hold
// every table.
func TestSmoke(t *testing.T) {
	cfg, err := parseFlags([]string{"-rounds", "1", "-closed-time", "1m", "-closed-max", "50", "-rates", "100",
		"-open-time", "1s", "-pods", "20", "-conns", "1,8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := run(ctx, cfg, "smoke", testLog{t})
	if err != nil {
		if rep != nil {
			t.Log(rep.Text())
		}
		t.Fatal(err)
	}
	t.Log("\n" + rep.Text())
	if len(rep.Tables) != 4 {
		t.Fatalf("%d tables, want closed, open, create, create ratios", len(rep.Tables))
	}
	// The counts are the bounds, not times: 2 sizes × 2 connection counts, 50 reviews each.
	if got := len(rep.Tables[0].Rows); got != 4 {
		t.Errorf("closed-loop rows: %d, want 4", got)
	}
	if got := len(rep.Tables[1].Rows); got != 3 {
		t.Errorf("open-loop rows: %d, want one per arm", got)
	}
	res := rep.Results
	for c, arms := range res.Closed {
		for _, a := range closedArms {
			if rs := arms[a]; len(rs) != 1 || rs[0].OK != 50 {
				t.Errorf("closed %s %s: %+v, want one round of 50 admitted reviews", c, a, rs)
			}
		}
	}
	for _, a := range closedArms {
		if rs := res.Open[openCase(100)][a]; len(rs) != 1 || rs[0].Sent != 100 || rs[0].OK != 100 {
			t.Errorf("open %s: %+v, want 100 sent and admitted", a, rs)
		}
	}
	for _, a := range createArms {
		if rs := res.Create[a]; len(rs) != 1 || rs[0].N != 20 || rs[0].Failed != 0 {
			t.Errorf("create %s: %+v, want 20 Pods created", a, rs)
		}
	}
	md := rep.Markdown()
	for _, want := range []string{"### Closed loop over TLS", "### Open loop over TLS at 6KB", "### Pod create through the API server", "| ours / constant-patch |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}
