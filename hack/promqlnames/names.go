package promqlnames

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrSyntax: the expression does not tokenize (unterminated string, bracket or brace).
var ErrSyntax = errors.New("promql does not tokenize")

// keywords are identifiers that are never metric names where they stand. Aggregations and
// functions are recognised by the `(` that follows them, but `sum by (x) (…)` puts a keyword
// between the name and its parenthesis, so the aggregations are listed too.
var keywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// groupers are followed by a parenthesised list of label names.
var groupers = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// Names returns the metric names expr reads, sorted and without duplicates.
func Names(expr string) ([]string, error) {
	var names []string
	s := expr
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '"' || c == '\'' || c == '`':
			n, err := skipString(s)
			if err != nil {
				return nil, err
			}
			s = s[n:]
		case c == '{':
			n, err := skipUntil(s, '}')
			if err != nil {
				return nil, err
			}
			if name := nameMatcher(s[:n]); name != "" {
				names = append(names, name)
			}
			s = s[n:]
		case c == '[':
			if strings.HasPrefix(s, "[[") { // Grafana's old [[var]] syntax
				i := strings.Index(s, "]]")
				if i < 0 {
					return nil, fmt.Errorf("%w: unterminated [[ in %q", ErrSyntax, expr)
				}
				s = s[i+2:]
				continue
			}
			n, err := skipUntil(s, ']')
			if err != nil {
				return nil, err
			}
			s = s[n:]
		case c == '$':
			s = skipVariable(s[1:])
		case c == '#': // a comment runs to the end of the line
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i:]
			} else {
				s = ""
			}
		case isDigit(c) || c == '.' && len(s) > 1 && isDigit(s[1]):
			s = s[identLen(s):] // numbers and durations (5m, 1e3, 0x1f) are one word
		case isIdentStart(c):
			n := identLen(s)
			word, rest := s[:n], strings.TrimLeft(s[n:], " \t\r\n")
			s = s[n:]
			switch {
			case groupers[strings.ToLower(word)]:
				if strings.HasPrefix(rest, "(") {
					m, err := skipUntil(rest, ')')
					if err != nil {
						return nil, err
					}
					s = rest[m:]
				}
			case keywords[strings.ToLower(word)]:
			case strings.HasPrefix(rest, "("): // a function
			default:
				names = append(names, word)
			}
		default:
			s = s[1:]
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// nameMatcher returns the metric name of a `{__name__="x"}` equality matcher, else "".
func nameMatcher(matchers string) string {
	i := strings.Index(matchers, "__name__")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(matchers[i+len("__name__"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "=~") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || rest[0] != '"' && rest[0] != '\'' && rest[0] != '`' {
		return ""
	}
	n, err := skipString(rest)
	if err != nil {
		return ""
	}
	return rest[1 : n-1]
}

// skipString returns the length of the quoted string at the start of s, escapes included.
func skipString(s string) (int, error) {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated string %.20q", ErrSyntax, s)
}

// skipUntil returns the length up to and including the closing byte, skipping quoted strings
// (a label value may hold the closing byte).
func skipUntil(s string, closing byte) (int, error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			n, err := skipString(s[i:])
			if err != nil {
				return 0, err
			}
			i += n - 1
		case closing:
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: no %q after %.20q", ErrSyntax, closing, s)
}

// skipVariable skips a Grafana variable after its `$`: `name`, `__name` or `{name}`/`{name:fmt}`.
func skipVariable(s string) string {
	if strings.HasPrefix(s, "{") {
		if i := strings.IndexByte(s, '}'); i >= 0 {
			return s[i+1:]
		}
		return ""
	}
	return s[identLen(s):]
}

func identLen(s string) int {
	i := 0
	for i < len(s) && (isIdentStart(s[i]) || isDigit(s[i])) {
		i++
	}
	if i == 0 && len(s) > 0 {
		return 1 // a lone `$` or `$(`: skip one byte and go on
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
