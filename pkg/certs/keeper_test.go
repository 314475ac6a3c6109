package certs

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// These tests run the Keeper against controller-runtime's fake client (which enforces
// resourceVersion preconditions and applies JSON patches); the real watch and API server are
// exercised in e2e/.

var (
	secretKey = types.NamespacedName{Namespace: "tools", Name: "inj-certs"}
	svcRef    = ServiceRef{Name: "inj", Namespace: "tools"}
)

func webhookConfig(bundles ...[]byte) *admissionv1.MutatingWebhookConfiguration {
	cfg := &admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "inj"}}
	for i, b := range bundles {
		cfg.Webhooks = append(cfg.Webhooks, admissionv1.MutatingWebhook{
			Name:         []string{"a.tools", "b.tools"}[i],
			ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Name: "inj", Namespace: "tools"}, CABundle: b},
		})
	}
	// Someone else's entry in the same object: never touched.
	cfg.Webhooks = append(cfg.Webhooks, admissionv1.MutatingWebhook{
		Name:         "other.example",
		ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Name: "other", Namespace: "tools"}, CABundle: []byte("theirs")},
	})
	return cfg
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func newKeeper(t *testing.T, c client.Client, now *time.Time, logs *logLines) *Keeper {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &Keeper{
		Secret: secretKey, WebhookConfig: "inj", Service: svcRef,
		Policy: NewPolicy(120*time.Second, 20*time.Second), Served: &Served{}, Metrics: m, Log: logs.logger(),
		Cached: c, Live: c, Writer: c, Now: func() time.Time { return *now },
	}
}

func reconcileOK(t *testing.T, k *Keeper) reconcile.Result {
	t.Helper()
	res, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: secretKey})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func getCfg(t *testing.T, c client.Client) *admissionv1.MutatingWebhookConfiguration {
	t.Helper()
	cfg := &admissionv1.MutatingWebhookConfiguration{}
	if err := c.Get(context.Background(), types.NamespacedName{Name: "inj"}, cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// staleReader answers NotFound for the Secret once: a replica whose cache had not seen the other
// replica's create when both started.
type staleReader struct {
	client.Reader
	once bool
}

func (s *staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, o ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok && !s.once {
		s.once = true
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	return s.Reader.Get(ctx, key, obj, o...)
}

func TestReplicasConvergeOnOneSecretAndHealTheBundle(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil, nil)).Build()
	var logs logLines
	a, b := newKeeper(t, c, &now, &logs), newKeeper(t, c, &now, &logs)
	b.Cached = &staleReader{Reader: c}

	reconcileOK(t, a)
	if res := reconcileOK(t, b); res.RequeueAfter != recheck { // lost the create race
		t.Fatalf("b after losing the create: %+v", res)
	}
	if b.Served.Leaf() != nil {
		t.Fatal("b serves a certificate of its own making")
	}
	reconcileOK(t, b) // adopts
	if !a.Served.Leaf().Equal(b.Served.Leaf()) {
		t.Fatal("replicas serve different certificates")
	}
	cfg := getCfg(t, c)
	trusted := Trusted(cfg, svcRef)
	if err := Verify(a.Served.Leaf(), trusted, "inj.tools.svc", now); err != nil {
		t.Fatalf("caBundle does not verify the served leaf: %v", err)
	}
	if string(cfg.Webhooks[2].ClientConfig.CABundle) != "theirs" {
		t.Fatal("another Service's entry was touched")
	}
	req := (&http.Request{}).WithContext(context.Background())
	if err := a.Ready(req); err != nil {
		t.Fatalf("not ready: %v", err)
	}

	// helm upgrade blanks one entry: not ready until the next round, which heals it.
	cfg.Webhooks[1].ClientConfig.CABundle = nil
	if err := c.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(req); err == nil {
		t.Fatal("ready with a blank caBundle")
	}
	reconcileOK(t, b)
	if err := a.Ready(req); err != nil {
		t.Fatalf("not healed: %v", err)
	}
	if got := testutil.ToFloat64(a.Metrics.expiry.WithLabelValues("leaf")); got != float64(a.Served.Leaf().NotAfter.Unix()) {
		t.Fatalf("leaf expiry metric %v", got)
	}
}

func TestCorruptSecretIsReplacedWithALogLine(t *testing.T) {
	now := t0
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretKey.Name, Namespace: secretKey.Namespace},
		Data: map[string][]byte{KeyCACert: []byte("-----BEGIN CERTIFICATE-----\ntrunc"), KeyCAKey: []byte("x")}}
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil), sec).Build()
	var logs logLines
	k := newKeeper(t, c, &now, &logs)
	reconcileOK(t, k)
	if n := logs.count("replacing unusable parts of the certificate Secret"); n != 1 {
		t.Fatalf("%d log lines about the corrupt Secret: %v", n, logs.lines)
	}
	got := &corev1.Secret{}
	if err := c.Get(context.Background(), secretKey, got); err != nil {
		t.Fatal(err)
	}
	if _, problems := Decode(got.Data, got.Annotations, now, DNSNames("inj", "tools")); len(problems) != 0 {
		t.Fatalf("Secret still corrupt: %v", problems)
	}
	reconcileOK(t, k)
	if n := logs.count("replacing unusable parts"); n != 1 {
		t.Fatalf("repaired Secret still reported: %d lines", n)
	}
}

// A replica whose cache lags behind a CA rotation must not strip the new CA from the caBundle.
func TestStaleReplicaNeverRemovesACAFromTheBundle(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil)).Build()
	var logs logLines
	a := newKeeper(t, c, &now, &logs)
	reconcileOK(t, a)
	rotateAt := RenewAt(a.Served.Issuer())
	before := rotateAt.Add(-time.Second)
	now = before
	reconcileOK(t, a) // a fresh leaf: nothing is due at `before` any more
	old := &corev1.Secret{}
	if err := c.Get(context.Background(), secretKey, old); err != nil {
		t.Fatal(err)
	}
	// a starts a rotation: bundle {CA, next}.
	now = rotateAt
	reconcileOK(t, a)
	if n := len(Trusted(getCfg(t, c), svcRef)); n != 2 {
		t.Fatalf("bundle of %d after the rotation started", n)
	}
	// b still sees the old Secret in its cache (and, with it, a moment earlier): by that copy
	// the bundle should be {CA} only.
	b := newKeeper(t, c, &before, &logs)
	b.Cached = fixedSecret{Reader: c, sec: old}
	if res := reconcileOK(t, b); res.RequeueAfter > time.Second {
		t.Fatalf("a stale replica waits %s before looking again", res.RequeueAfter)
	}
	if n := len(Trusted(getCfg(t, c), svcRef)); n != 2 {
		t.Fatalf("a stale replica shrank the bundle to %d", n)
	}
}

type fixedSecret struct {
	client.Reader
	sec *corev1.Secret
}

func (f fixedSecret) Get(ctx context.Context, key client.ObjectKey, obj client.Object, o ...client.GetOption) error {
	if s, ok := obj.(*corev1.Secret); ok {
		f.sec.DeepCopyInto(s)
		return nil
	}
	return f.Reader.Get(ctx, key, obj, o...)
}

// Two replicas, reconciling in turn on a fake clock, go through leaf renewals and a full CA
// rotation; after every single reconcile, what each replica serves verifies against the caBundle
// as it stands: there is no instant at which the API server would reject either.
func TestTwoReplicasRotateWithoutAnUntrustedMoment(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil, nil)).Build()
	var logs logLines
	replicas := []*Keeper{newKeeper(t, c, &now, &logs), newKeeper(t, c, &now, &logs)}
	phases := map[Phase]bool{}
	leaves := map[string]bool{}
	var firstCA *x509.Certificate
	for tick := 0; now.Before(t0.Add(200 * time.Second)); tick++ {
		for i := range replicas {
			k := replicas[(i+tick)%2] // alternate who goes first
			// The API server applies a caBundle change a little later, so during one round it
			// may verify with the bundle from before or after it: a served leaf must pass both.
			before := Trusted(getCfg(t, c), svcRef)
			if _, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: secretKey}); err != nil {
				t.Fatalf("%s: %v", now.Sub(t0), err)
			}
			after := Trusted(getCfg(t, c), svcRef)
			for j, r := range replicas {
				leaf := r.Served.Leaf()
				if leaf == nil {
					continue
				}
				for when, trusted := range map[string][]*x509.Certificate{"before": before, "after": after} {
					if len(before) == 0 {
						continue // the very first round: nothing was published yet
					}
					if err := Verify(leaf, trusted, "inj.tools.svc", now); err != nil {
						t.Fatalf("at +%s replica %d serves a leaf the caBundle from %s the round does not trust: %v", now.Sub(t0), j, when, err)
					}
				}
				leaves[leaf.SerialNumber.String()] = true
			}
		}
		sec := &corev1.Secret{}
		if err := c.Get(context.Background(), secretKey, sec); err != nil {
			t.Fatal(err)
		}
		phases[Phase(sec.Annotations[AnnotationPhase])] = true
		if firstCA == nil {
			firstCA = replicas[0].Served.Issuer()
		}
		now = now.Add(500 * time.Millisecond)
	}
	if !phases[PhaseAdding] || !phases[PhaseRetiring] || replicas[0].Served.Issuer().Equal(firstCA) {
		t.Fatalf("no full CA rotation in 200s: phases %v", phases)
	}
	if len(leaves) < 10 {
		t.Fatalf("only %d leaves in 200s of 20s leaves", len(leaves))
	}
	t.Logf("%d leaves, phases %v", len(leaves), phases)
}
