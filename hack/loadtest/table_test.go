package main

import (
	"math"
	"strings"
	"testing"
)

func TestTableMarkdown(t *testing.T) {
	tb := Table{Title: "T", Note: "n", Header: []string{"a", "b"}, Rows: [][]string{{"1", "x|y"}}}
	want := "### T\n\nn\n\n| a | b |\n| --- | --- |\n| 1 | x\\|y |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableTextAligns(t *testing.T) {
	tb := Table{Title: "T", Header: []string{"arm", "rps"}, Rows: [][]string{{"constant", "1"}, {"ours", "22"}}}
	lines := strings.Split(strings.TrimRight(tb.Text(), "\n"), "\n")
	if lines[0] != "== T" || len(lines) != 4 {
		t.Fatalf("Text:\n%s", tb.Text())
	}
	col := strings.Index(lines[1], "rps")
	for _, l := range lines[2:] {
		if strings.IndexAny(l[col:], "0123456789") != 0 {
			t.Errorf("column not aligned at %d: %q", col, l)
		}
	}
}

func TestCells(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Rate(Spread{Median: 6322.4, Min: 6100, Max: 6553, N: 3}), "6,322 (6,100–6,553)"},
		{Rate(Spread{Median: 478, Min: 478, Max: 478, N: 1}), "478"},
		{Rate(Spread{}), "–"},
		{Millis(Spread{Median: 0.00345, Min: 0.003, Max: 0.0041, N: 3}), "3.45 (3.00–4.10)"},
		{Percent(Spread{Median: 1, Min: 1, Max: 1, N: 3}), "100.0%"},
		{Times(1.234), "1.23×"},
		{Times(math.NaN()), "n/a"},
		{thousands(1234567), "1,234,567"},
		{thousands(999), "999"},
		{thousands(-1000), "-1,000"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
