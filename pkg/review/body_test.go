package review

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// scripted hands out its chunks one Read at a time and records how much room each Read got.
type scripted struct {
	chunks   [][]byte
	received int
	rooms    []struct{ received, room int }
}

func (s *scripted) Read(p []byte) (int, error) {
	s.rooms = append(s.rooms, struct{ received, room int }{s.received, len(p)})
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	s.received += n
	return n, nil
}

func post(body io.Reader, contentLength int64) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, Path, body)
	r.ContentLength = contentLength
	return r
}

// The buffer grows only as bytes arrive: an announced 3 MiB body that delivers `{` and then
// 100 KB never holds more than twice what arrived (or the first 16 KiB).
func TestBodyBufferGrowsOnlyAsBytesArrive(t *testing.T) {
	src := &scripted{chunks: [][]byte{[]byte("{"), bytes.Repeat([]byte(" "), 100_000)}}
	budget := NewBudget(DefaultMaxBodyBytesInFlight)
	buf := getBuffer()
	body, held, err := readBody(buf, post(src, MaxBodyBytes-1), budget)
	if err != nil || len(body) != 100_001 {
		t.Fatalf("read %d bytes, err %v", len(body), err)
	}
	for _, r := range src.rooms {
		if buffer := r.received + r.room; buffer > 2*max(r.received, initialBuffer) {
			t.Fatalf("with %d bytes received, a read got room for %d more: the buffer ran ahead of the bytes", r.received, r.room)
		}
	}
	if held != int64(cap(*buf)) || budget.InUse() != held {
		t.Fatalf("charged %d, budget in use %d, buffer %d: every byte of buffer is charged", held, budget.InUse(), cap(*buf))
	}
	budget.give(held)
	if budget.InUse() != 0 {
		t.Fatalf("after give: %d in use", budget.InUse())
	}
}

// Content-Length only ever lowers an allocation: a body that announces its true size ends in a
// buffer of exactly that plus the byte the read of EOF needs.
func TestContentLengthCapsTheLastGrowth(t *testing.T) {
	body := `{` + strings.Repeat(" ", 40_000) + `}`
	buf := getBuffer()
	got, _, err := readBody(buf, post(strings.NewReader(body), int64(len(body))), nil)
	if err != nil || string(got) != body {
		t.Fatalf("err %v, %d bytes", err, len(got))
	}
	if cap(*buf) != len(body)+1 {
		t.Fatalf("buffer of %d bytes for a %d-byte body", cap(*buf), len(body))
	}
}

func TestBodyLimit(t *testing.T) {
	for _, c := range []struct {
		name          string
		size          int
		contentLength int64
		want          error
	}{
		{"one under, announced", MaxBodyBytes - 1, MaxBodyBytes - 1, nil},
		{"one under, unannounced", MaxBodyBytes - 1, -1, nil},
		{"at the limit, unannounced", MaxBodyBytes, -1, errTooLarge},
		{"announced at the limit, nothing sent", 0, MaxBodyBytes, errTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &scripted{chunks: [][]byte{bytes.Repeat([]byte(" "), c.size)}}
			budget := NewBudget(4 * MaxBodyBytes)
			_, held, err := readBody(getBuffer(), post(src, c.contentLength), budget)
			if !errors.Is(err, c.want) && err != c.want {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if c.want != nil && c.size == 0 && (len(src.rooms) != 0 || held != 0) {
				t.Fatalf("an announced size over the limit was read (%d reads) or charged (%d)", len(src.rooms), held)
			}
		})
	}
}

// Of a 1 MiB budget, bodies hold at most 1 MiB together, and the bytes beyond each body's first
// 64 KiB at most half of it: what big bodies leave is kept for small ones.
func TestBudget(t *testing.T) {
	const KiB = 1 << 10
	b := NewBudget(1 << 20)
	steps := []struct {
		held, want int64
		ok         bool
	}{
		{0, 600 * KiB, false},       // 536 KiB beyond 64 KiB: over the big half
		{0, 576 * KiB, true},        // 512 KiB beyond: exactly the big half
		{0, 128 * KiB, false},       // 64 KiB more beyond: the big half is spent
		{0, 64 * KiB, true},         // a small body still fits
		{64 * KiB, 65 * KiB, false}, // but cannot grow past 64 KiB
	}
	for i, s := range steps {
		if got := b.take(s.held, s.want); got != s.ok {
			t.Fatalf("step %d: take(%d, %d) = %v, want %v (in use %d)", i, s.held, s.want, got, s.ok, b.InUse())
		}
	}
	// Small bodies get the rest, and no more than the whole.
	for i := 0; i < 6; i++ {
		if !b.take(0, 64*KiB) {
			t.Fatalf("small body %d did not fit with %d KiB in use", i, b.InUse()/KiB)
		}
	}
	if b.take(0, 64*KiB) || b.InUse() != 1<<20 {
		t.Fatalf("in use %d, want the budget full", b.InUse())
	}
	b.give(576 * KiB)
	if !b.take(0, 128*KiB) {
		t.Fatal("the big half did not come back")
	}
	var none *Budget
	if !none.take(0, 1<<40) {
		t.Fatal("a nil budget refused")
	}
}
