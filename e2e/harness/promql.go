package harness

import (
	"regexp"
	"slices"
	"strings"
)

// grafanaVar matches $name and ${name}: the two spellings of a Grafana template variable.
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// SubstituteVars replaces the Grafana variables of expr that vars names by their values, as
// Grafana does before it sends a query. Variables vars does not name are left as they are, so
// that Prometheus rejects the query and the caller sees which one was unexpected.
func SubstituteVars(expr string, vars map[string]string) string {
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// Vars returns the names of the Grafana variables expr still holds, in order ($1 and the like,
// label_replace's capture groups, are not variables).
func Vars(expr string) []string {
	var out []string
	for _, m := range grafanaVar.FindAllString(expr, -1) {
		out = append(out, strings.Trim(m, "${}"))
	}
	return out
}

// promKeywords are PromQL words that look like metric names but are not.
var promKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
	"atan2": true, "start": true, "end": true,
}

var (
	// labelLists are the parenthesised label names after a grouping or matching modifier.
	labelLists = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	// promToken is an identifier, or a number or duration (which starts with a digit or a dot).
	promToken = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*|[0-9.][A-Za-z0-9_.]*`)
)

// MetricNames returns the metric names expr selects, sorted and without duplicates: the
// identifiers left once strings, comments, label matchers, ranges and the label lists of
// by/without/on/ignoring/group_left/group_right are removed, minus function and aggregation
// names (an identifier followed by "(") and keywords. It is a reader for the expressions this
// project ships, not a PromQL parser: an expression that does not parse is Prometheus' to reject
// (the e2e tests send every one of them to a real Prometheus).
func MetricNames(expr string) []string {
	s := stripPromQL(expr)
	s = labelLists.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range promToken.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if c := tok[0]; c == '.' || (c >= '0' && c <= '9') || promKeywords[tok] {
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\r\n"), "(") {
			continue // a function or an aggregation
		}
		names = append(names, tok)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// stripPromQL blanks string literals, comments and the insides of {...} and [...], keeping the
// brackets' positions apart with a space so that neighbouring tokens stay separate.
func stripPromQL(expr string) string {
	var b strings.Builder
	depthBrace, depthBracket := 0, 0
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
			b.WriteByte(' ')
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
		case c == '{':
			depthBrace++
			b.WriteByte(' ')
		case c == '}':
			depthBrace--
			b.WriteByte(' ')
		case c == '[':
			depthBracket++
			b.WriteByte(' ')
		case c == ']':
			depthBracket--
			b.WriteByte(' ')
		case depthBrace > 0 || depthBracket > 0:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipString returns the index of the quote closing the string that opens at expr[i]; backslash
// escapes apply except in raw (backtick) strings. An unterminated string runs to the end.
func skipString(expr string, i int) int {
	quote := expr[i]
	for j := i + 1; j < len(expr); j++ {
		switch {
		case expr[j] == '\\' && quote != '`':
			j++
		case expr[j] == quote:
			return j
		}
	}
	return len(expr)
}
