package harness

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy stands in for kube-proxy: a TCP (L4) proxy on a Service's ClusterIP that spreads
// connections round-robin over the replicas' addresses, as kube-proxy's iptables rules would.
// TLS passes through untouched: the API server handshakes with the replica itself.
type Proxy struct {
	l        net.Listener
	backends []string
	next     atomic.Uint64
	// Conns counts the connections sent to each backend, by index.
	Conns []atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  map[net.Conn]struct{}
}

// StartProxy listens on listen (loopback) and forwards to backends.
func StartProxy(listen string, backends ...string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("proxy address %q: must be a loopback host:port", listen)
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("proxy listening on %s: %w", listen, err)
	}
	p := &Proxy{l: l, backends: backends, Conns: make([]atomic.Int64, len(backends)), open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		i := int(p.next.Add(1)-1) % len(p.backends)
		p.Conns[i].Add(1)
		p.wg.Add(1)
		go p.forward(c, p.backends[i])
	}
}

func (p *Proxy) forward(client net.Conn, backend string) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", backend)
	if err != nil {
		_ = client.Close() // the API server sees a failed dial, as with a dead endpoint
		return
	}
	if !p.track(client, server) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
	p.untrack(client, server)
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil { // closed
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.open[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
		delete(p.open, c)
	}
}

// Close stops accepting, closes every proxied connection and waits for the goroutines.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.mu.Lock()
	for c := range p.open {
		_ = c.Close()
	}
	p.open = nil
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
