package main

import (
	"math"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, ms(i))
	}
	for p, want := range map[float64]time.Duration{50: ms(50), 99: ms(99), 100: ms(100), 0.5: ms(1), 99.5: ms(100)} {
		if got := Percentile(d, p); got != want {
			t.Errorf("p%v of 1..100 ms = %s, want %s", p, got, want)
		}
	}
	// Ten values: p99 is the maximum (nearest rank rounds up), never an interpolation.
	if got := Percentile(d[:10], 99); got != ms(10) {
		t.Errorf("p99 of 1..10 ms = %s, want 10ms", got)
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %s, want 0", got)
	}
}

func TestSummarizeSortsAndReadsMax(t *testing.T) {
	l := Summarize([]time.Duration{ms(5), ms(1), ms(9), ms(3)})
	if l.P50 != ms(3) || l.P99 != ms(9) || l.Max != ms(9) || l.N != 4 {
		t.Errorf("Summarize = %+v, want p50 3ms, p99 9ms, max 9ms, n 4", l)
	}
	if l := Summarize(nil); l != (Latencies{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", l)
	}
}

func TestSpreadOf(t *testing.T) {
	in := []float64{7, 1, 4}
	if s := SpreadOf(in); s != (Spread{Median: 4, Min: 1, Max: 7, N: 3}) {
		t.Errorf("odd count: %+v", s)
	}
	if in[0] != 7 {
		t.Error("SpreadOf reordered its input")
	}
	if s := SpreadOf([]float64{4, 1, 10, 2}); s != (Spread{Median: 3, Min: 1, Max: 10, N: 4}) {
		t.Errorf("even count: median is the mean of the middle two: %+v", s)
	}
	if s := SpreadOf(nil); s != (Spread{}) {
		t.Errorf("no values: %+v", s)
	}
}

func TestRatio(t *testing.T) {
	if r := Ratio(Spread{Median: 3, N: 1}, Spread{Median: 2, N: 1}); r != 1.5 {
		t.Errorf("3/2 = %v", r)
	}
	if r := Ratio(Spread{Median: 3, N: 1}, Spread{}); !math.IsNaN(r) {
		t.Errorf("ratio over zero = %v, want NaN", r)
	}
}
