package review

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
)

// gvk is the response AdmissionReview's apiVersion and kind: the request's, as controller-runtime
// echoes them; both empty for answers given before the request was decoded.
type gvk struct{ apiVersion, kind string }

// appendReview appends the AdmissionReview answering a, with the request's uid and the patch
// already marshalled (nil when a has none), as encoding/json writes a v1.AdmissionReview through
// json.Encoder (field order, omitempty, HTML-safe escaping, trailing newline).
func appendReview(dst []byte, t gvk, uid string, a decide.Answer, patch []byte) []byte {
	dst = append(dst, '{')
	if t.kind != "" {
		dst = append(dst, `"kind":`...)
		dst = appendString(dst, t.kind)
		dst = append(dst, ',')
	}
	if t.apiVersion != "" {
		dst = append(dst, `"apiVersion":`...)
		dst = appendString(dst, t.apiVersion)
		dst = append(dst, ',')
	}
	dst = append(dst, `"response":{"uid":`...)
	dst = appendString(dst, uid)
	dst = append(dst, `,"allowed":`...)
	dst = strconv.AppendBool(dst, a.Allowed)
	dst = append(dst, `,"status":{"metadata":{}`...)
	if a.Message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, a.Message)
	}
	dst = append(dst, `,"code":`...)
	dst = strconv.AppendInt(dst, int64(a.Code), 10)
	dst = append(dst, '}')
	if len(patch) > 0 {
		dst = append(dst, `,"patch":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, patch)
		dst = append(dst, `","patchType":"JSONPatch"`...)
	}
	if len(a.Warnings) > 0 {
		dst = append(dst, `,"warnings":[`...)
		for i, w := range a.Warnings {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, w)
		}
		dst = append(dst, ']')
	}
	return append(dst, "}}\n"...)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json's Marshal does: HTML-safe (<, >
// and & escaped), U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
