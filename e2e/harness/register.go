package harness

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const (
	// WebhookConfigName is the MutatingWebhookConfiguration (the server's --webhook-config-name
	// default).
	WebhookConfigName = "tilt-lib-injector"
	// WebhookName is the webhook's name inside it; the API server quotes it in errors.
	WebhookName = "pods.tilt-lib.platform"
	// MutatePath is the server's admission endpoint.
	MutatePath = "/mutate-v1-pod"
	// WorkspaceLabel / WorkspaceValue select Coder workspace Pods (the chart's objectSelector).
	WorkspaceLabel = "app.kubernetes.io/name"
	WorkspaceValue = "coder-workspace"
)

// SystemNamespaces are never sent to the webhook (with the injector's own namespace).
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// WebhookConfig is the registration the chart installs, pointing at svc.
func WebhookConfig(svc Service, caBundle []byte, policy admissionv1.FailurePolicyType) *admissionv1.MutatingWebhookConfiguration {
	excluded := append(append([]string{}, SystemNamespaces...), svc.Namespace)
	return &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: WebhookConfigName},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name: WebhookName,
			ClientConfig: admissionv1.WebhookClientConfig{
				Service: &admissionv1.ServiceReference{
					Name: svc.Name, Namespace: svc.Namespace, Path: ptr.To(MutatePath), Port: ptr.To(int32(svc.Port)),
				},
				CABundle: caBundle,
			},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule: admissionv1.Rule{
					APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
					Scope: ptr.To(admissionv1.NamespacedScope),
				},
			}},
			ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{WorkspaceLabel: WorkspaceValue}},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded,
			}}},
			// The server mutates dry-run requests without counting them or emitting Events.
			SideEffects:             ptr.To(admissionv1.SideEffectClassNoneOnDryRun),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To(int32(5)),
			ReinvocationPolicy:      ptr.To(admissionv1.IfNeededReinvocationPolicy),
			FailurePolicy:           ptr.To(policy),
			MatchPolicy:             ptr.To(admissionv1.Equivalent),
		}},
	}
}

// RegisterWebhook creates or replaces the webhook configuration.
func RegisterWebhook(ctx context.Context, c kubernetes.Interface, cfg *admissionv1.MutatingWebhookConfiguration) error {
	api := c.AdmissionregistrationV1().MutatingWebhookConfigurations()
	existing, err := api.Get(ctx, cfg.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		cfg.ResourceVersion = existing.ResourceVersion
		_, err = api.Update(ctx, cfg, metav1.UpdateOptions{})
	case apierrors.IsNotFound(err):
		_, err = api.Create(ctx, cfg, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("registering MutatingWebhookConfiguration %s: %w", cfg.Name, err)
	}
	return nil
}

// SetFailurePolicy changes the failure policy of the registered webhook. The API server applies
// it asynchronously; callers wait for its effect (see Injector.WaitRejecting).
func SetFailurePolicy(ctx context.Context, c kubernetes.Interface, policy admissionv1.FailurePolicyType) error {
	api := c.AdmissionregistrationV1().MutatingWebhookConfigurations()
	cfg, err := api.Get(ctx, WebhookConfigName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the webhook configuration: %w", err)
	}
	for i := range cfg.Webhooks {
		cfg.Webhooks[i].FailurePolicy = ptr.To(policy)
	}
	if _, err := api.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting failurePolicy %s: %w", policy, err)
	}
	return nil
}
