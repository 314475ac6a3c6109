package certs

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Resync bounds how long the keeper goes without looking, even when nothing changed and no
// deadline is near.
const Resync = 10 * time.Minute

// recheck is how soon the keeper looks again after finding its cache behind another replica's
// write: the watch event that brings the write normally comes first.
const recheck = 200 * time.Millisecond

// Keeper converges the certificate Secret and the webhook configuration's caBundle, and serves
// the Secret's leaf. Every replica runs one; see the package doc for why no leader is needed.
// It is a reconcile.Reconciler for the single request of its Secret (any event on the Secret or
// the webhook configuration maps to it).
type Keeper struct {
	Secret        types.NamespacedName
	WebhookConfig string
	Service       ServiceRef
	Policy        Policy
	Served        *Served
	Metrics       *Metrics
	Log           logr.Logger

	// Cached reads the Secret and the webhook configuration from the watch cache; Live reads
	// the Secret from the API server; Writer creates, updates and patches.
	Cached client.Reader
	Live   client.Reader
	Writer client.Writer

	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Reconcile runs one round: read, Step, write if changed, serve, heal the caBundle.
func (k *Keeper) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	now := k.now()
	cfg, err := k.webhookConfig(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	sec, state, err := k.next(ctx, now, Trusted(cfg, k.Service))
	if err != nil {
		return reconcile.Result{}, err
	}
	if sec == nil {
		// Lost a create or update race; the watch brings the winner's, this is the safety net.
		return reconcile.Result{RequeueAfter: recheck}, nil
	}
	if err := k.serve(state); err != nil {
		return reconcile.Result{}, err
	}
	if err := k.healBundle(ctx, cfg, state); err != nil {
		if errors.Is(err, errStale) {
			// Expected for a moment after another replica's write; the watch brings it.
			return reconcile.Result{RequeueAfter: recheck}, nil
		}
		return reconcile.Result{}, err
	}
	after := Resync
	if d := state.Deadline(k.Policy); !d.IsZero() {
		after = min(after, max(d.Sub(now), time.Millisecond))
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

func (k *Keeper) webhookConfig(ctx context.Context) (*admissionv1.MutatingWebhookConfiguration, error) {
	cfg := &admissionv1.MutatingWebhookConfiguration{}
	err := k.Cached.Get(ctx, types.NamespacedName{Name: k.WebhookConfig}, cfg)
	if apierrors.IsNotFound(err) {
		k.Log.Info("MutatingWebhookConfiguration not found; its caBundle is set once it exists", "webhookConfiguration", k.WebhookConfig)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading MutatingWebhookConfiguration %s: %w", k.WebhookConfig, err)
	}
	return cfg, nil
}

// next reads the Secret, applies Step and writes the result when it differs, with the
// resourceVersion read. It returns the Secret as stored and its state, or a nil Secret after
// losing a race (AlreadyExists, Conflict): the caller retries from the winner's copy.
func (k *Keeper) next(ctx context.Context, now time.Time, trusted []*x509.Certificate) (*corev1.Secret, State, error) {
	sec := &corev1.Secret{}
	err := k.Cached.Get(ctx, k.Secret, sec)
	switch {
	case apierrors.IsNotFound(err):
		sec = nil
	case err != nil:
		return nil, State{}, fmt.Errorf("reading Secret %s: %w", k.Secret, err)
	}
	var data map[string][]byte
	var ann map[string]string
	if sec != nil {
		data, ann = sec.Data, sec.Annotations
	}
	state, problems := Decode(data, ann, now, DNSNames(k.Service.Name, k.Service.Namespace))
	k.report(problems)
	next, events, err := Step(state, Input{
		Now: now, Policy: k.Policy, DNSNames: DNSNames(k.Service.Name, k.Service.Namespace),
		Trusted: trusted, Rand: k.rand(),
	})
	if err != nil {
		return nil, State{}, err
	}
	wantData, wantAnn := Encode(next)
	if sec != nil && maps.EqualFunc(wantData, sec.Data, slices.Equal) && hasAll(sec.Annotations, wantAnn) {
		return sec, next, nil
	}
	if sec == nil {
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: k.Secret.Name, Namespace: k.Secret.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "tilt-lib-injector"}}, Type: corev1.SecretTypeOpaque}
		sec.Data, sec.Annotations = wantData, wantAnn
		if err := k.Writer.Create(ctx, sec); err != nil {
			if apierrors.IsAlreadyExists(err) {
				k.Log.V(1).Info("another replica created the certificate Secret first; adopting it", "secret", k.Secret.String())
				return nil, State{}, nil
			}
			return nil, State{}, fmt.Errorf("creating Secret %s: %w", k.Secret, err)
		}
	} else {
		sec = sec.DeepCopy()
		sec.Data = wantData
		if sec.Annotations == nil {
			sec.Annotations = map[string]string{}
		}
		for _, key := range []string{AnnotationPhase, AnnotationPublishedAt, AnnotationRetireAt} {
			delete(sec.Annotations, key)
		}
		maps.Copy(sec.Annotations, wantAnn)
		// Update carries the resourceVersion we read: optimistic concurrency.
		if err := k.Writer.Update(ctx, sec); err != nil {
			if apierrors.IsConflict(err) {
				k.Log.V(1).Info("the certificate Secret changed under us; re-reading", "secret", k.Secret.String())
				return nil, State{}, nil
			}
			return nil, State{}, fmt.Errorf("updating Secret %s: %w", k.Secret, err)
		}
	}
	for _, e := range events {
		k.Log.Info(string(e), "secret", k.Secret.String(), "phase", string(next.Phase),
			"leafNotAfter", next.Leaf.Cert.NotAfter, "caNotAfter", next.CA.Cert.NotAfter)
	}
	return sec, next, nil
}

// report logs what Decode found unusable, one line for the skew and one for the rest; the write
// that follows repairs the Secret, so neither is repeated on the next round.
func (k *Keeper) report(problems []error) {
	var other []error
	for _, p := range problems {
		var skew *NotYetValidError
		if !errors.As(p, &skew) {
			other = append(other, p)
			continue
		}
		k.Metrics.NotYetValid(skew)
		k.Log.Info("the certificate Secret holds a certificate that is not valid yet by this replica's clock; replacing it with one issued now (check the nodes' clocks: NTP)",
			"secret", k.Secret.String(), "kind", skew.Kind, "notBefore", skew.NotBefore, "ahead", skew.Ahead.String())
	}
	if len(other) > 0 {
		k.Log.Info("replacing unusable parts of the certificate Secret", "secret", k.Secret.String(), "problems", errors.Join(other...).Error())
	}
}

// hasAll reports whether have holds every key of want with the same value, and none of our
// annotation keys that want lacks.
func hasAll(have, want map[string]string) bool {
	for _, key := range []string{AnnotationPhase, AnnotationPublishedAt, AnnotationRetireAt} {
		if want[key] != have[key] {
			return false
		}
	}
	return true
}

// serve presents the Secret's leaf from now on.
func (k *Keeper) serve(s State) error {
	if leaf := k.Served.Leaf(); leaf != nil && leaf.Equal(s.Leaf.Cert) {
		return nil
	}
	if err := k.Served.Load(s.Leaf.CertPEM, s.Leaf.KeyPEM, s.CA.Cert); err != nil {
		return err
	}
	k.Metrics.Observe(s.Leaf.Cert, s.CA.Cert)
	k.Log.V(1).Info("serving certificate loaded", "serial", s.Leaf.Cert.SerialNumber.String(), "notAfter", s.Leaf.Cert.NotAfter)
	return nil
}

// healBundle patches the caBundle of our webhook entries to the Secret's bundle. Adding a CA
// is always safe; removing one is done only if the live Secret (not our cache, which may lag
// another replica's rotation) still wants it gone.
func (k *Keeper) healBundle(ctx context.Context, cfg *admissionv1.MutatingWebhookConfiguration, s State) error {
	patch, removes, err := BundlePatch(cfg, k.Service, s.Bundle)
	if err != nil || patch == nil {
		return err
	}
	if removes {
		live := &corev1.Secret{}
		if err := k.Live.Get(ctx, k.Secret, live); err != nil {
			return fmt.Errorf("re-reading Secret %s before removing a CA from the caBundle: %w", k.Secret, err)
		}
		fresh, _ := ParseCerts(live.Data[KeyBundle])
		if !SameSet(fresh, s.Bundle) {
			k.Log.V(1).Info("cached certificate Secret is stale; waiting for the watch before changing the caBundle")
			return errStale
		}
	}
	if err := k.Writer.Patch(ctx, cfg, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("patching the caBundle of MutatingWebhookConfiguration %s: %w", k.WebhookConfig, err)
	}
	k.Log.Info("caBundle set", "webhookConfiguration", k.WebhookConfig, "cas", len(s.Bundle), "removed", removes)
	return nil
}

var errStale = errors.New("cached certificate Secret older than the live one")

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *Keeper) rand() io.Reader {
	if k.Rand != nil {
		return k.Rand
	}
	return rand.Reader
}
