package mutate

import "unicode/utf8"

// Truncate cuts s to at most max bytes, never inside a UTF-8 sequence, and reports how many
// bytes it cut (0 when s fits). It is the one cut every bounded developer-controlled string goes
// through, each with its named limit and its own mark of the cut: a value quoted in a warning or
// an Event (MaxQuotedBytes, marked "..."), a value in a log line or an error answer
// (pkg/decide's MaxLogValueBytes, "…(+N bytes)") and an Event note (pkg/events' MaxNoteBytes,
// " … (truncated)").
//
// The cut moves back at most utf8.UTFMax-1 bytes to the start of a sequence, so bytes that are
// not UTF-8 are cut like any other (and each caller quotes them).
func Truncate(s string, max int) (kept string, cut int) {
	if len(s) <= max {
		return s, 0
	}
	n := max
	for back := 0; n > 0 && back < utf8.UTFMax-1 && !utf8.RuneStart(s[n]); back++ {
		n--
	}
	return s[:n], len(s) - n
}
