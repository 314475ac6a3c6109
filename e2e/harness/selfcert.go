package harness

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CertExpirySeries is the certificate expiry gauge of one kind (leaf or ca).
func CertExpirySeries(kind string) Series {
	return Series{"tiltlib_certificate_expiry_timestamp_seconds", map[string]string{"kind": kind}}
}

// SelfCertReplica prepares (does not start) a `webhook serve --cert-mode=self` process of the
// suite's binary for svc, listening on bind:port (the Service's ClusterIP when it is the only
// replica, 127.0.0.1 behind a proxy otherwise), with the admin kubeconfig and extra flags; it
// logs to webhook-<name>.log in the work dir. The caller stops it.
func (inj *Injector) SelfCertReplica(name string, svc Service, bind net.IP, port int, extra ...string) (*Webhook, error) {
	metricsAddr, probeAddr, err := SideAddrs()
	if err != nil {
		return nil, err
	}
	listen := Service{Name: svc.Name, Namespace: svc.Namespace, ClusterIP: bind, Port: port}
	return &Webhook{
		Binary:      inj.Webhook.Binary,
		Args:        ServeArgs(inj.Kubeconfig, listen, "", metricsAddr, probeAddr, append([]string{"--cert-mode=self"}, extra...)...),
		Addr:        listen.Addr(),
		ProbeAddr:   probeAddr,
		MetricsAddr: metricsAddr,
		LogPath:     filepath.Join(inj.WorkDir, "webhook-"+name+".log"),
	}, nil
}

// SelfCertRegistration is the registration the chart installs for a self-managed certificate:
// name, pointing at svc, with an empty caBundle (the webhook fills it), selecting only Pods
// labelled label=value in namespace podNamespace, so that it never sees the suite's other Pods.
func SelfCertRegistration(name string, svc Service, policy admissionv1.FailurePolicyType, podNamespace, label, value string) *admissionv1.MutatingWebhookConfiguration {
	cfg := WebhookConfig(svc, nil, policy)
	cfg.Name = name
	w := &cfg.Webhooks[0]
	w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{label: value}}
	w.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": podNamespace}}
	return cfg
}

// CABundle reads the caBundle of the first webhook of registration name.
func (inj *Injector) CABundle(ctx context.Context, name string) ([]byte, error) {
	cfg, err := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading MutatingWebhookConfiguration %s: %w", name, err)
	}
	if len(cfg.Webhooks) == 0 {
		return nil, fmt.Errorf("MutatingWebhookConfiguration %s has no webhook", name)
	}
	return cfg.Webhooks[0].ClientConfig.CABundle, nil
}
