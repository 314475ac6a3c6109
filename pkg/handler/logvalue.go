package handler

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// maxLogValue bounds a developer-controlled string in a log line: 253 bytes, the longest valid
// Kubernetes name, so a real name is never cut. Mutating admission runs before the API server
// validates the object, so generateName can be anything the 7 MiB body holds.
const maxLogValue = 253

// truncate cuts s to maxLogValue bytes at a rune boundary and says how much was cut.
func truncate(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	n := maxLogValue
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(+" + strconv.Itoa(len(s)-n) + " bytes)"
}

// logValue makes a developer-controlled string safe for any log sink: truncated, and Go-quoted
// when it holds anything but printable characters without spaces, quotes or backslashes (a cut
// value always is, by its marker), so a newline or a fake `key=value` can never pass for log
// structure. Plain names stay unquoted, as operators grep for them.
func logValue(s string) string {
	s = truncate(s)
	if !plain(s) {
		return strconv.Quote(s)
	}
	return s
}

func plain(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == '"' || r == '\\' || r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
