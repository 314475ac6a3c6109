package decide

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// MaxLogValueBytes bounds a developer-controlled string in a log line or an error answer: 253
// bytes, the longest valid Kubernetes name, so a real name is never cut. Mutating admission runs
// before the API server validates the object, so generateName can be anything the 7 MiB body
// holds.
const MaxLogValueBytes = 253

// truncate cuts s to MaxLogValueBytes (mutate.Truncate) and says how much was cut.
func truncate(s string) string {
	kept, cut := mutate.Truncate(s, MaxLogValueBytes)
	if cut == 0 {
		return s
	}
	return kept + "…(+" + strconv.Itoa(cut) + " bytes)"
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

// LogValue is logValue for the HTTP side (pkg/review): a request's UID or a panic's value in a log
// line or a failed call's message.
func LogValue(s string) string { return logValue(s) }
