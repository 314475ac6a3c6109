package review

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// MaxBodyBytes bounds a review body; a body that reaches it is answered with HTTP 413, a failed
// call (failurePolicy decides), never a denial. 3 MiB, the API server's own request limit: the
// largest plain Pod the API server stores (etcd's 1.5 MiB request limit) gives a 1.50 MiB review,
// measured by e2e's TestLargestPodCreateReview; only Pods built to inflate their JSON (characters
// the API server escapes six-fold, tens of thousands of list entries) get past it
// (docs/design.md, Bounds).
const MaxBodyBytes = 3 << 20

// Buffers hold a body, then the response written over it. New ones start at initialBuffer
// (a workspace Pod's review is ~6 KB) and grow as bytes arrive; only those up to maxPooled are
// kept for the next request, so a few big bodies do not stay in memory.
const (
	initialBuffer = 16 << 10
	maxPooled     = 256 << 10
	// smallBody is what a body may hold from the whole Budget; bytes beyond it come from the half
	// of the Budget that big bodies share, so they never crowd out ordinary reviews.
	smallBody = 64 << 10
)

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, initialBuffer); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		buffers.Put(b)
	}
}

// Budget bounds the bytes that request bodies hold at once, across all requests: a buffer is
// charged before it is allocated or grown, and given back when its request ends. Of each body,
// the bytes beyond smallBody may use only half of the budget: a few big bodies (or connections
// that announce them) can never leave an ordinary review without room. A nil *Budget admits
// everything. Safe for concurrent use.
type Budget struct {
	mu              sync.Mutex
	limit, bigLimit int64
	inUse, bigInUse int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit, bigLimit: limit / 2} }

// beyondSmall is the part of a body's n bytes that counts against the big bodies' half.
func beyondSmall(n int64) int64 { return max(0, n-smallBody) }

// take grows a body's charge from held to want bytes; false, with nothing charged, when that does
// not fit.
func (b *Budget) take(held, want int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	d, dBig := want-held, beyondSmall(want)-beyondSmall(held)
	if b.inUse+d > b.limit || b.bigInUse+dBig > b.bigLimit {
		return false
	}
	b.inUse += d
	b.bigInUse += dBig
	return true
}

// give returns a body's whole charge.
func (b *Budget) give(held int64) {
	if b == nil || held == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inUse -= held
	b.bigInUse -= beyondSmall(held)
}

// InUse is the number of bytes charged now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inUse
}

var (
	errTooLarge = fmt.Errorf("request entity is too large; limit is %d bytes", MaxBodyBytes)
	errNoBudget = errors.New("review bodies in flight hold the whole --max-body-bytes-in-flight")
)

// readBody reads r's body into *buf, growing the buffer only as bytes arrive: it doubles when
// full of received bytes, never past Content-Length+1 (the read that sees EOF needs room) nor
// MaxBodyBytes, so Content-Length can lower an allocation but never cause one. Every byte of
// buffer is charged to budget before it is allocated. held is what is charged on return, also
// with an error: the caller gives it back once it is done with the body (and *buf, which holds
// the buffer read into).
func readBody(buf *[]byte, r *http.Request, budget *Budget) (body []byte, held int64, err error) {
	if r.ContentLength >= MaxBodyBytes {
		return nil, 0, errTooLarge
	}
	b := (*buf)[:0]
	if !budget.take(0, int64(cap(b))) {
		// A big pooled buffer may not fit where a fresh small one does.
		if cap(b) <= initialBuffer || !budget.take(0, initialBuffer) {
			return nil, 0, errNoBudget
		}
		b = make([]byte, 0, initialBuffer)
	}
	held = int64(cap(b))
	defer func() { *buf = b }()
	for {
		if len(b) == cap(b) {
			if len(b) >= MaxBodyBytes {
				return b, held, errTooLarge
			}
			next := min(max(2*cap(b), initialBuffer), MaxBodyBytes)
			if n := r.ContentLength; n >= 0 && n+1 > int64(len(b)) {
				next = min(next, int(n)+1)
			}
			if !budget.take(held, int64(next)) {
				return b, held, errNoBudget
			}
			nb := make([]byte, len(b), next)
			copy(nb, b)
			b, held = nb, int64(next)
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, held, nil
		}
		if err != nil {
			return b, held, err
		}
	}
}

// edgeBody is a request body the Edge has read completely, in a pooled buffer the Edge owns.
// Handler takes the bytes without copying them (and writes its answer over them); any other
// handler reads them.
type edgeBody struct {
	buf *[]byte
	rd  bytes.Reader
}

func newEdgeBody(buf *[]byte) *edgeBody {
	b := &edgeBody{buf: buf}
	b.rd.Reset(*buf)
	return b
}

func (b *edgeBody) Read(p []byte) (int, error) { return b.rd.Read(p) }
func (b *edgeBody) Close() error               { return nil }
