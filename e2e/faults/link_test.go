//go:build e2e && linux

package faults

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// link is the replicas' road to the API server: an L4 proxy on its own loopback port (TLS passes
// through; the API server's certificate names 127.0.0.1), which the test can cut — every open
// connection closed, new ones refused — and restore, as a network partition or a dropped
// load-balancer connection would. The replicas' kubeconfig names the proxy; the test's own
// client goes to the API server directly.
type link struct {
	addr, backend string
	mu            sync.Mutex
	proxy         *harness.Proxy
}

func startLink(apiServer string) (*link, error) {
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	l := &link{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), backend: apiServer}
	return l, l.restore()
}

// cut closes every connection through the link and stops accepting new ones.
func (l *link) cut() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.proxy == nil {
		return nil
	}
	err := l.proxy.Close()
	l.proxy = nil
	return err
}

// restore accepts connections again (on the same address).
func (l *link) restore() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.proxy != nil {
		return nil
	}
	p, err := harness.StartProxy(l.addr, l.backend)
	if err != nil {
		return fmt.Errorf("API link: %w", err)
	}
	l.proxy = p
	return nil
}

// kubeconfigVia writes a copy of the admin kubeconfig whose server is addr (same credentials).
func kubeconfigVia(admin, path, addr string) error {
	cfg, err := clientcmd.LoadFromFile(admin)
	if err != nil {
		return fmt.Errorf("reading %s: %w", admin, err)
	}
	for _, cl := range cfg.Clusters {
		u, err := url.Parse(cl.Server)
		if err != nil {
			return fmt.Errorf("server %q: %w", cl.Server, err)
		}
		u.Host = addr
		cl.Server = u.String()
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// linkKubeconfig is the replicas' kubeconfig through the link.
func (c *cluster) linkKubeconfig() string { return filepath.Join(c.workDir, "replicas.kubeconfig") }
