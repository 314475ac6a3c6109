package charttest

import (
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// chartPattern compiles the body of the chart's `define name` in templates/_validate.tpl, the
// pattern its template checks hand to regexMatch (Go's regexp, as here).
func chartPattern(t *testing.T, name string) *regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "templates", "_validate.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	start := `{{- define "` + name + `" -}}` + "\n"
	_, rest, ok := strings.Cut(string(b), start)
	body, _, ok2 := strings.Cut(rest, "\n{{- end -}}")
	if !ok || !ok2 {
		t.Fatalf("no %s in _validate.tpl", name)
	}
	return regexp.MustCompile(body)
}

// compare reports every input where the pattern and the binary's parser disagree.
func compare(t *testing.T, re *regexp.Regexp, parses func(string) bool, inputs []string) {
	t.Helper()
	bad := 0
	for _, s := range inputs {
		if got, want := re.MatchString(s), parses(s); got != want && bad < 20 {
			bad++
			t.Errorf("%q: chart pattern %v, binary %v", s, got, want)
		}
	}
}

// pick builds n random strings of 1 to max tokens each (a fixed seed: the same inputs every run).
func pick(seed uint64, n, max int, tokens []string) []string {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + r.IntN(max) {
			b.WriteString(tokens[r.IntN(len(tokens))])
		}
		out[i] = b.String()
	}
	return out
}

// TestPatternsAreTheBinarysParsers: the chart's webhook.bindAddress pattern accepts exactly what
// net.ParseIP does (and empty, which --bind-address allows), and its configMapSelector pattern
// exactly what labels.Parse does, on hand-picked edges and on random strings built from their
// tokens. Not covered: a key prefix over 253 characters and a > or < integer over 18 digits, which
// the pattern cannot count or refuses although the binary accepts it (the chart is stricter).
func TestPatternsAreTheBinarysParsers(t *testing.T) {
	ip := chartPattern(t, "tli.ipPattern")
	ipEdges := []string{"", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.1.1.1", "1.1.1", "1.1.1.1.1", "::", "::1", "1::",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2::3", "::ffff:1.2.3.4",
		"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "1::1.2.3.4", "fe80::1%eth0", "FE80::ABCD", "12345::", "1:2:3:4:5::1.2.3.4",
		" ::1", "[::1]", "localhost"}
	random := pick(1, 50000, 12, []string{"0", "1", "9", "25", "255", "256", "ffff", "FfFf", "12345", ".", ":", "::", "%", "a"})
	compare(t, ip, func(s string) bool { return s == "" || net.ParseIP(s) != nil }, append(ipEdges, random...))

	sel := chartPattern(t, "tli.selectorPattern")
	selEdges := []string{"", " ", "a", "!a", "! a", "a,", ",a", "a,,b", "a=b", "a==b", "a!=b", "a=", "a=,b", "a = b", "a! =b", "a=!b",
		"a in (b)", "a in ()", "a in (,)", "a in (b,)", "a in(b)", "ain (b)", "a notin (b, c)", "in in (in)", "a in b", "a>5", "a < 5", "a>-5",
		"a>b", "a>=5", "a=(b)", "x/y", "example.com/a=b", "Example.com/a", "a..b/c", "a/b/c", "-a", "a-", "a_b.c-d", "a=b c",
		strings.Repeat("k", 63), strings.Repeat("k", 64), "a=" + strings.Repeat("v", 63), "a=" + strings.Repeat("v", 64),
		"tilt-lib.platform/published=true", "a in (),!b, c notin (x, y),d!=e,f==g,h>5"}
	random = pick(2, 50000, 8, []string{"a", "b.c/d", "in", "notin", "Bad_", "-x", "9", "=", "==", "!=", "!", " ", "\t", "(", ")", ",", ">", "<", "/", ".", "_"})
	compare(t, sel, func(s string) bool { _, err := labels.Parse(s); return err == nil }, append(selEdges, random...))
}
