package certs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// SetupWithManager gives k a cache of its own that holds exactly two objects, each selected by
// name (metadata.name field selector, so RBAC can be restricted to those names): the Secret and
// the MutatingWebhookConfiguration. Every event on either, and one at start, runs Reconcile.
func (k *Keeper) SetupWithManager(mgr manager.Manager) error {
	byName := func(name string) fields.Selector { return fields.OneTermEqualSelector("metadata.name", name) }
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{k.Secret.Namespace: {}},
				Field:      byName(k.Secret.Name),
			},
			&admissionv1.MutatingWebhookConfiguration{}: {Field: byName(k.WebhookConfig)},
		},
		ReaderFailOnMissingInformer: true,
	})
	if err != nil {
		return fmt.Errorf("creating the certificate cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the certificate cache: %w", err)
	}
	k.Cached, k.Live, k.Writer = c, mgr.GetAPIReader(), mgr.GetClient()

	ctl, err := controller.New("certificates", mgr, controller.Options{
		Reconciler: k,
		// Every replica keeps the Secret and serves from it; correctness never needed a leader.
		NeedLeaderElection: ptr.To(false),
		SkipNameValidation: ptr.To(true),
	})
	if err != nil {
		return fmt.Errorf("creating the certificate controller: %w", err)
	}
	req := reconcile.Request{NamespacedName: k.Secret}
	one := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{req}
	})
	for _, obj := range []client.Object{&corev1.Secret{}, &admissionv1.MutatingWebhookConfiguration{}} {
		if err := ctl.Watch(source.Kind(c, obj, one)); err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	// Neither object may exist yet: the first round must not wait for an event.
	kick := source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(req)
		return nil
	})
	if err := ctl.Watch(kick); err != nil {
		return fmt.Errorf("starting the certificate controller: %w", err)
	}
	return nil
}

// Ready is a healthz checker: it fails until a certificate is served and every caBundle entry
// pointing at our Service trusts it.
func (k *Keeper) Ready(req *http.Request) error {
	leaf := k.Served.Leaf()
	if leaf == nil {
		return ErrNotServing
	}
	if k.Cached == nil {
		return errors.New("certificate cache not set up")
	}
	cfg := &admissionv1.MutatingWebhookConfiguration{}
	if err := k.Cached.Get(req.Context(), types.NamespacedName{Name: k.WebhookConfig}, cfg); err != nil {
		return fmt.Errorf("reading MutatingWebhookConfiguration %s: %w", k.WebhookConfig, err)
	}
	trusted := Trusted(cfg, k.Service)
	if len(trusted) == 0 {
		return fmt.Errorf("no caBundle of MutatingWebhookConfiguration %s (for Service %s/%s) holds a CA yet", k.WebhookConfig, k.Service.Namespace, k.Service.Name)
	}
	name := DNSNames(k.Service.Name, k.Service.Namespace)[2]
	if err := Verify(leaf, trusted, name, k.now()); err != nil {
		return fmt.Errorf("the caBundle does not trust the served certificate yet: %w", err)
	}
	return nil
}
