package review

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// servedTLS is served over loopback TLS (HTTP/1.1, as serve runs it), with the bytes the server
// reads from each connection counted, so a test can wait until a client's bytes have arrived.
func servedTLS(t testing.TB, h http.Handler) (*httptest.Server, *readCounter) {
	t.Helper()
	return servedCounted(t, h, true)
}

// servedCounted is servedTLS, over plain HTTP unless useTLS.
func servedCounted(t testing.TB, h http.Handler, useTLS bool) (*httptest.Server, *readCounter) {
	t.Helper()
	srv := httptest.NewUnstartedServer(instrumented(h))
	srv.Config.ReadHeaderTimeout = 32 * time.Second
	srv.Config.IdleTimeout = 90 * time.Second
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every cut connection is logged otherwise
	rc := &readCounter{changed: make(chan struct{})}
	srv.Listener = &countingListener{Listener: srv.Listener, rc: rc}
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, rc
}

// readCounter holds, per client address, the bytes the server read and whether it closed.
type readCounter struct {
	mu      sync.Mutex
	conns   map[string]*serverConn
	changed chan struct{} // closed and replaced on every change
}

func (rc *readCounter) notify() {
	rc.mu.Lock()
	close(rc.changed)
	rc.changed = make(chan struct{})
	rc.mu.Unlock()
}

// settle returns once the server has read written bytes from the client at local, or closed
// that connection, or ctx is done.
func (rc *readCounter) settle(ctx context.Context, local string, written int64) {
	for {
		rc.mu.Lock()
		c, ch := rc.conns[local], rc.changed
		rc.mu.Unlock()
		if c != nil && (c.read.Load() >= written || c.closed.Load()) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

type countingListener struct {
	net.Listener
	rc *readCounter
}

func (l *countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &serverConn{Conn: conn, rc: l.rc}
	l.rc.mu.Lock()
	if l.rc.conns == nil {
		l.rc.conns = map[string]*serverConn{}
	}
	l.rc.conns[conn.RemoteAddr().String()] = c
	l.rc.mu.Unlock()
	l.rc.notify()
	return c, nil
}

type serverConn struct {
	net.Conn
	rc     *readCounter
	read   atomic.Int64
	closed atomic.Bool
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Add(int64(n))
		c.rc.notify()
	}
	return n, err
}

func (c *serverConn) Close() error {
	err := c.Conn.Close()
	if !c.closed.Swap(true) {
		c.rc.notify()
	}
	return err
}
