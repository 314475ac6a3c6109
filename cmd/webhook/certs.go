package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/platform-tools/tilt-lib-injector/pkg/certs"
	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// certSetup is where the serving certificate comes from: files mounted in --cert-dir (files
// mode) or the Secret pkg/certs keeps (self mode). Its tlsOpt goes into the webhook server's
// options before the manager exists; wire adds the moving parts once it does.
type certSetup struct {
	cfg     tlconfig.Config
	log     logr.Logger
	watcher *certwatcher.CertWatcher // files mode
	served  *certs.Served            // self mode
}

// checkCertConfig is what Config.Validate cannot check because `inject` shares the Config:
// self mode keeps its Secret in the Service's namespace.
func checkCertConfig(cfg tlconfig.Config) error {
	if cfg.CertMode == tlconfig.CertModeSelf && cfg.ServiceNamespace == "" {
		return fmt.Errorf("--cert-mode self needs --service-namespace (or $POD_NAMESPACE): the certificate Secret %s is kept in that namespace", cfg.CertSecretName)
	}
	return nil
}

func newCertSetup(cfg tlconfig.Config, log logr.Logger) (*certSetup, error) {
	cs := &certSetup{cfg: cfg, log: log.WithName("certificates")}
	if cfg.CertMode == tlconfig.CertModeSelf {
		cs.served = &certs.Served{}
		return cs, nil
	}
	dir := cfg.CertDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	if err := checkCertFiles(dir); err != nil {
		return nil, err
	}
	w, err := certwatcher.New(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		return nil, fmt.Errorf("loading the serving certificate from %s: %w", dir, err)
	}
	cs.watcher = w
	return cs, nil
}

// tlsOpt makes the webhook server present our certificate (controller-runtime then starts no
// certificate watcher of its own).
func (cs *certSetup) tlsOpt(c *tls.Config) {
	if cs.served != nil {
		c.GetCertificate = cs.served.GetCertificate
		return
	}
	c.GetCertificate = cs.watcher.GetCertificate
}

// wire registers the expiry metric and, in self mode, the keeper of the Secret and caBundle
// with its readiness check.
func (cs *certSetup) wire(ctx context.Context, mgr manager.Manager) error {
	m, err := certs.NewMetrics(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	if cs.watcher != nil {
		cs.watcher.RegisterCallback(func(c tls.Certificate) { m.Observe(servedChain(c)) })
		if err := mgr.Add(cs.watcher); err != nil {
			return fmt.Errorf("adding the certificate watcher: %w", err)
		}
		return nil
	}
	cfg := cs.cfg
	// The Secret lives in the Service's namespace: fail now, clearly, if there is none.
	if err := mgr.GetAPIReader().Get(ctx, types.NamespacedName{Name: cfg.ServiceNamespace}, &corev1.Namespace{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("--service-namespace %q: no such namespace (the certificate Secret %s is kept there): %w", cfg.ServiceNamespace, cfg.CertSecretName, err)
		}
		return fmt.Errorf("--service-namespace %q: %w", cfg.ServiceNamespace, err)
	}
	k := &certs.Keeper{
		Secret:        types.NamespacedName{Namespace: cfg.ServiceNamespace, Name: cfg.CertSecretName},
		WebhookConfig: cfg.WebhookConfigName,
		Service:       certs.ServiceRef{Name: cfg.ServiceName, Namespace: cfg.ServiceNamespace},
		Policy:        certs.NewPolicy(cfg.CALifetime, cfg.CertLifetime),
		Served:        cs.served,
		Metrics:       m,
		Log:           cs.log,
	}
	if err := k.SetupWithManager(mgr); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("certificate", k.Ready); err != nil {
		return fmt.Errorf("adding the certificate readiness check: %w", err)
	}
	cs.log.Info("self-managed certificate", "secret", k.Secret.String(), "webhookConfiguration", k.WebhookConfig,
		"caLifetime", cfg.CALifetime, "certLifetime", cfg.CertLifetime)
	return nil
}

// servedChain is the leaf of a mounted chain and, when tls.crt carries it, its CA.
func servedChain(c tls.Certificate) (leaf, ca *x509.Certificate) {
	var chain []*x509.Certificate
	for _, der := range c.Certificate {
		parsed, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil
		}
		chain = append(chain, parsed)
	}
	if len(chain) == 0 {
		return nil, nil
	}
	return chain[0], certs.IssuerInChain(chain)
}
