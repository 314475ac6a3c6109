package reviewtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Hostile is a kind of connection anyone who reaches the webhook port can hold open (issue 23):
// each announces a body of Attacker.BodyBytes and never finishes it.
type Hostile int

const (
	// HeaderOnly sends the headers and the body's first byte, `{`, then waits.
	HeaderOnly Hostile = iota
	// Trickle sends the headers and `{`, then one byte every Attacker.TrickleEvery.
	Trickle
	// FullBody sends all of the body but its last byte, then waits.
	FullBody
)

func (h Hostile) String() string {
	return [...]string{"header-only", "trickle", "full-body"}[h]
}

// Attacker keeps one hostile connection of its Kind open against Addr until its context ends:
// when the server answers or cuts the connection, it connects again and starts over.
type Attacker struct {
	Kind Hostile
	// Addr is the server's host:port; TLS, when set, is the client's TLS configuration.
	Addr string
	TLS  *tls.Config
	// BodyBytes is the announced Content-Length.
	BodyBytes int
	// TrickleEvery is the pause between two bytes of a Trickle; zero means 100 ms.
	TrickleEvery time.Duration
	// Settle, when set, is called once the payload is written, with the connection's local
	// address and the bytes written on the wire (TLS records included); it returns once the
	// server has read that much or closed the connection. Without it, a connection counts as
	// held as soon as its payload is written.
	Settle func(ctx context.Context, local string, written int64)

	mu       sync.Mutex
	statuses map[string]int
	opened   atomic.Int64
	held     atomic.Int64
	heldOnce chan struct{}
	once     sync.Once
}

// Run attacks until ctx is done.
func (a *Attacker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		status := a.connection(ctx)
		if ctx.Err() != nil {
			status = "stopped"
		}
		a.mu.Lock()
		if a.statuses == nil {
			a.statuses = map[string]int{}
		}
		a.statuses[status]++
		a.mu.Unlock()
	}
}

// Held is closed once a connection of this attacker has been held (its payload written and
// read by the server) or refused.
func (a *Attacker) Held() <-chan struct{} { return a.heldChan() }

func (a *Attacker) heldChan() chan struct{} {
	a.once.Do(func() { a.heldOnce = make(chan struct{}) })
	return a.heldOnce
}

func (a *Attacker) markHeld() {
	a.held.Add(1)
	ch := a.heldChan()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Statuses counts how the server ended each connection: an HTTP status code, "cut" (closed
// without an answer), "dial" or "tls" (no connection, no handshake), "stopped" (Run's context
// ended first).
func (a *Attacker) Statuses() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.statuses))
	for k, v := range a.statuses {
		out[k] = v
	}
	return out
}

// Opened is the number of connections made so far.
func (a *Attacker) Opened() int64 { return a.opened.Load() }

// connection runs one hostile connection and says how it ended.
func (a *Attacker) connection(ctx context.Context) string {
	d := net.Dialer{Timeout: 5 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", a.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return "stopped"
		}
		a.markHeld() // a server that refuses connections holds nothing
		return "dial"
	}
	a.opened.Add(1)
	counted := &countingConn{Conn: raw}
	var conn net.Conn = counted
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	defer raw.Close()
	if a.TLS != nil {
		cfg := a.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(a.Addr)
		}
		tc := tls.Client(counted, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			if ctx.Err() == nil {
				a.markHeld()
			}
			return "tls"
		}
		conn = tc
	}

	answer := make(chan string, 1)
	go func() { answer <- readStatus(conn) }()
	if err := a.payload(conn); err != nil {
		a.markHeld() // refused or cut while sending
		return <-answer
	}
	if a.Settle != nil {
		a.Settle(ctx, raw.LocalAddr().String(), counted.written.Load())
	}
	a.markHeld()
	if a.Kind == Trickle {
		every := a.TrickleEvery
		if every <= 0 {
			every = 100 * time.Millisecond
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case s := <-answer:
				return s
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return <-answer
				}
			}
		}
	}
	return <-answer
}

// filler is what a FullBody sends, 64 KiB at a time, so that attackers hold no big buffers of
// their own (the unit test measures the server's heap from the same process).
var filler = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = ' '
	}
	return b
}()

// payload writes the request head and the part of the body this kind sends.
func (a *Attacker) payload(conn net.Conn) error {
	head := fmt.Sprintf("POST /mutate-v1-pod HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", a.BodyBytes)
	if _, err := io.WriteString(conn, head); err != nil {
		return err
	}
	if a.Kind != FullBody {
		return nil
	}
	for left := a.BodyBytes - 2; left > 0; { // `{` is sent, the last byte never is
		n := min(left, len(filler))
		if _, err := conn.Write(filler[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// readStatus reads the server's answer: its status code, or "cut" when the connection ends
// without one.
func readStatus(conn net.Conn) string {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "cut"
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	_ = conn.Close() // one request per connection: the next one starts afresh
	return fmt.Sprint(resp.StatusCode)
}

// countingConn counts the bytes written on the wire.
type countingConn struct {
	net.Conn
	written atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}
