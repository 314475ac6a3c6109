package events

import (
	"strings"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// MaxNoteBytes is the API server's limit on an events.k8s.io/v1 Event note; a longer note makes
// the whole Event fail validation. Notes are cut with mutate.Truncate, like every bounded string.
const MaxNoteBytes = 1024

// truncatedMarker ends a note that was cut to fit MaxNoteBytes.
const truncatedMarker = " … (truncated)"

// note makes a finding's message a valid Event note: valid UTF-8 (invalid bytes would each become
// a 3-byte U+FFFD when serialised, pushing a note that fit over the limit) and at most
// MaxNoteBytes, cut at a rune boundary and marked.
func note(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= MaxNoteBytes {
		return msg
	}
	kept, _ := mutate.Truncate(msg, MaxNoteBytes-len(truncatedMarker))
	return kept + truncatedMarker
}

// reasonName turns a snake_case reason into the CamelCase Kubernetes Events use
// (configmap_missing -> ConfigMapMissing).
func reasonName(r mutate.Reason) string {
	switch r {
	case mutate.ReasonConfigMapMissing:
		return "ConfigMapMissing"
	case mutate.ReasonMountPathConflict:
		return "MountPathConflict"
	}
	out := make([]byte, 0, len(r))
	up := true
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}
