//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// Lifetimes of the rotation scenario: a leaf renews every ~6s and the CA starts rotating ~25s
// after it was issued; the rotation (publish, 2s settle, switch, retire after the last old leaf
// + 2.5s) ends before the 40s CA expires.
const (
	rotCALifetime   = "40s"
	rotCertLifetime = "10s"
	rotDeadline     = 2 * time.Minute
	rotWorkers      = 2
	wantLeaves      = 4 // the first leaf plus at least three rotations
)

// rotationSeen follows the Secret: every leaf and CA it held, and whether a CA rotation went
// all the way (retiring phase, then stable again with a new CA).
type rotationSeen struct {
	leaves, cas map[string]bool
	firstCA     string
	retiring    bool
	done        bool
}

func (r *rotationSeen) observe(t *testing.T, ctx context.Context, ns string) {
	sec, err := inj.Client.CoreV1().Secrets(ns).Get(ctx, selfCertSecret, metav1.GetOptions{})
	if err != nil {
		t.Errorf("reading the Secret: %v", err)
		return
	}
	serial := func(key string) string {
		b, _ := pem.Decode(sec.Data[key])
		if b == nil {
			return ""
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return ""
		}
		return c.SerialNumber.String()
	}
	leaf, ca := serial("tls.crt"), serial("ca.crt")
	r.leaves[leaf], r.cas[ca] = true, true
	if r.firstCA == "" {
		r.firstCA = ca
	}
	phase := sec.Annotations["certs.tilt-lib.platform/phase"]
	if phase == "retiring" {
		r.retiring = true
	}
	r.done = r.retiring && phase == "stable" && ca != r.firstCA && len(r.leaves) >= wantLeaves
}

// TestSelfCertRotationUnderLoad: failurePolicy Fail, two replicas behind a round-robin L4 proxy
// on the Service's ClusterIP (kube-proxy's job in a cluster), a 10s leaf and a 40s CA, and
// workspace Pods created without pause through at least three leaf rotations and one full CA
// rotation: not one creation fails and every Pod is injected.
func TestSelfCertRotationUnderLoad(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "selfcert-rot", 2, admissionv1.Fail,
		"--ca-lifetime="+rotCALifetime, "--cert-lifetime="+rotCertLifetime)
	s.launchAll(t)
	proxy, err := harness.StartProxy(s.svc.Addr(), s.replicas[0].Addr, s.replicas[1].Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })

	newPod := func() *corev1.Pod {
		p := harness.WorkspacePod("", nil)
		p.GenerateName = "rot-"
		p.Labels = map[string]string{selfCertLabel: s.ns}
		return p
	}
	// The API server loads a new registration asynchronously: wait for the first injection.
	err = harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, s.podNS, newPod())
		return err == nil && p.Annotations[harness.KeyStatus] == "injected", nil
	})
	if err != nil {
		t.Fatalf("the API server never reached the replicas through the proxy: %v", err)
	}

	var created, failed, notInjected atomic.Int64
	var firstErr sync.Once
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range rotWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, err := inj.Client.CoreV1().Pods(s.podNS).Create(ctx, newPod(), metav1.CreateOptions{})
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { t.Errorf("first failed creation at %s: %v", time.Now().Format(time.StampMilli), err) })
					continue
				}
				created.Add(1)
				if p.Annotations[harness.KeyStatus] != "injected" {
					notInjected.Add(1)
				}
			}
		}()
	}

	// The API server keeps its connections alive, so Pod creations alone handshake only when
	// its client is rebuilt (on a caBundle change). A prober opens a new connection through the
	// proxy every few milliseconds, as a new API server client would, and verifies it against
	// the caBundle as stored at that moment: every leaf of every replica gets handshaken.
	var handshakes, handshakeFailures atomic.Int64
	probedLeaves := sync.Map{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			leaf, err := s.trustedLeaf(ctx, s.svc.Addr())
			handshakes.Add(1)
			if err != nil {
				handshakeFailures.Add(1)
				firstErr.Do(func() { t.Errorf("first failed handshake at %s: %v", time.Now().Format(time.StampMilli), err) })
				continue
			}
			probedLeaves.Store(leaf.SerialNumber.String(), true)
		}
	}()

	seen := &rotationSeen{leaves: map[string]bool{}, cas: map[string]bool{}}
	start := time.Now()
	err = harness.Poll(ctx, rotDeadline, func(ctx context.Context) (bool, error) {
		seen.observe(t, ctx, s.ns)
		return seen.done, nil
	})
	close(stop)
	wg.Wait()
	nProbed := 0
	probedLeaves.Range(func(any, any) bool { nProbed++; return true })
	t.Logf("rotation under load for %s: %d Pods created, %d failed, %d not injected; %d leaves and %d CAs in the Secret; %d fresh handshakes verified against the caBundle, %d failed, %d distinct leaves seen by them; proxy connections per replica %d/%d",
		time.Since(start).Round(time.Millisecond), created.Load(), failed.Load(), notInjected.Load(),
		len(seen.leaves), len(seen.cas), handshakes.Load(), handshakeFailures.Load(), nProbed,
		proxy.Conns[0].Load(), proxy.Conns[1].Load())
	if err != nil {
		t.Fatalf("rotation not complete within %s: %d leaves, %d CAs, retiring seen %v", rotDeadline, len(seen.leaves), len(seen.cas), seen.retiring)
	}
	if failed.Load() != 0 || notInjected.Load() != 0 || created.Load() == 0 || handshakeFailures.Load() != 0 {
		t.Fatalf("%d failed creations, %d Pods not injected (of %d), %d failed handshakes", failed.Load(), notInjected.Load(), created.Load(), handshakeFailures.Load())
	}
	if nProbed < wantLeaves {
		t.Fatalf("fresh handshakes saw %d leaves, want every one of at least %d", nProbed, wantLeaves)
	}
}
