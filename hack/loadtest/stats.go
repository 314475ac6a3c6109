package main

import (
	"math"
	"slices"
	"time"
)

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted: the smallest value
// with at least p% of the values at or below it. Zero for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Latencies summarises one arm's latencies in one round.
type Latencies struct {
	P50, P99, Max time.Duration
	N             int
}

// Summarize sorts d in place and reads its percentiles.
func Summarize(d []time.Duration) Latencies {
	slices.Sort(d)
	if len(d) == 0 {
		return Latencies{}
	}
	return Latencies{P50: Percentile(d, 50), P99: Percentile(d, 99), Max: d[len(d)-1], N: len(d)}
}

// Spread is a measure over rounds: the median and the range.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// SpreadOf is the median (the mean of the two middle values for an even count), minimum and
// maximum of values; the zero Spread for none.
func SpreadOf(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	mid := len(v) / 2
	med := v[mid]
	if len(v)%2 == 0 {
		med = (v[mid-1] + v[mid]) / 2
	}
	return Spread{Median: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// Ratio is a/b of medians, NaN when b is zero (rendered as "n/a").
func Ratio(a, b Spread) float64 {
	if b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}
