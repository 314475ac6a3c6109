package main

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is one section of the report.
type Table struct {
	Title  string
	Note   string // a line under the title: what was measured, how
	Header []string
	Rows   [][]string
}

// Text renders t for a terminal: title, note, aligned columns.
func (t Table) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\n", t.Title)
	if t.Note != "" {
		fmt.Fprintf(&b, "%s\n", t.Note)
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.Header, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	_ = w.Flush()
	return b.String()
}

// Markdown renders t as a Markdown section (### title, note, pipe table); cells have their pipes
// escaped.
func (t Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", t.Title)
	if t.Note != "" {
		fmt.Fprintf(&b, "%s\n\n", t.Note)
	}
	row := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(esc, " | "))
	}
	row(t.Header)
	sep := make([]string, len(t.Header))
	for i := range sep {
		sep[i] = "---"
	}
	row(sep)
	for _, r := range t.Rows {
		row(r)
	}
	return b.String()
}

// Rate renders a Spread of requests per second: "6,322 (6,100–6,553)"; a single round has no
// range.
func Rate(s Spread) string {
	return spread(s, func(v float64) string { return thousands(int64(math.Round(v))) })
}

// Millis renders a Spread of seconds in milliseconds with two decimals.
func Millis(s Spread) string {
	return spread(s, func(v float64) string { return fmt.Sprintf("%.2f", v*1000) })
}

// Percent renders a Spread of fractions as percentages.
func Percent(s Spread) string {
	return spread(s, func(v float64) string { return fmt.Sprintf("%.1f%%", v*100) })
}

// Times renders a ratio: "1.23×", "n/a" when undefined.
func Times(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

func spread(s Spread, f func(float64) string) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// thousands is n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// seconds converts durations to seconds, for Spread.
func seconds(d time.Duration) float64 { return d.Seconds() }
