// Package promqlnames finds the metric names a PromQL expression reads, so tests can check that the
// dashboard and the alert rules shipped with the chart only use metrics the binary exports (or
// Prometheus itself provides, such as `up`).
//
// It is a tokenizer, not a parser: it skips strings, label matchers, grouping label lists,
// range/subquery brackets, numbers, durations, Grafana variables ($job, ${job}, [[job]]),
// keywords and function or aggregation names (an identifier followed by `(`), and returns every
// other identifier. That is exact for the expressions we write; an expression that does not
// tokenize (an unterminated string or bracket) is an error, never a panic. Pure and thread-safe.
package promqlnames
