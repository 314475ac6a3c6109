package decide

import (
	"strings"
	"testing"
)

func TestLogValue(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes, two per rune
	for _, c := range []struct{ in, want string }{
		{"coder-ws-", "coder-ws-"},
		{strings.Repeat("a", MaxLogValueBytes), strings.Repeat("a", MaxLogValueBytes)}, // at the bound: untouched
		{strings.Repeat("a", MaxLogValueBytes+1), `"` + strings.Repeat("a", MaxLogValueBytes) + `…(+1 bytes)"`},
		{long, `"` + strings.Repeat("é", 126) + `…(+148 bytes)"`}, // 252 bytes: the rune at 252-253 is not split
		{"ws-\nlevel=error msg=forged", `"ws-\nlevel=error msg=forged"`},
		{`ws" pod="other`, `"ws\" pod=\"other"`},
		{`ws"`, `"ws\""`},
		{`ws\`, `"ws\\"`},
		{"ws\u00a0x", `"ws\u00a0x"`}, // a non-breaking space looks like a separator
		{"bad\xffbyte", `"bad\xffbyte"`},
		{"", ""},
	} {
		if got := logValue(c.in); got != c.want {
			t.Errorf("logValue(%.40q) = %.80q, want %.80q", c.in, got, c.want)
		}
	}
}
