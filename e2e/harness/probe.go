package harness

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProbeNamespace is where the harness sends its probe Pods: an ordinary namespace the webhook
// selects. Probes are server-side dry-run creates, so nothing is stored, and the server does not
// count dry-run reviews in its metrics: probing never disturbs what a test accounts for.
const ProbeNamespace = "default"

// DryRunCreate creates pod in namespace with dryRun=All and returns what the API server would
// have stored (after every mutating webhook ran).
func (inj *Injector) DryRunCreate(ctx context.Context, namespace string, pod *corev1.Pod) (*corev1.Pod, error) {
	return inj.Client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
}

// WaitInjecting waits until a dry-run workspace Pod comes back carrying the status annotation:
// the API server has loaded the registration and reaches the webhook through its Service.
func (inj *Injector) WaitInjecting(ctx context.Context, timeout time.Duration) error {
	var last string
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		pod, err := inj.DryRunCreate(ctx, ProbeNamespace, WorkspacePod("e2e-probe", nil))
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if s, ok := pod.Annotations[KeyStatus]; ok {
			last = s
			return true, nil
		}
		last = "created without the " + KeyStatus + " annotation"
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the webhook to mutate a probe Pod (last: %s): %w", last, err)
	}
	return nil
}

// WaitRejecting waits until a dry-run workspace Pod is rejected: with the webhook down, this is
// the moment the API server applies failurePolicy Fail.
func (inj *Injector) WaitRejecting(ctx context.Context, timeout time.Duration) error {
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		_, err := inj.DryRunCreate(ctx, ProbeNamespace, WorkspacePod("e2e-probe", nil))
		return err != nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the API server to reject a probe Pod: %w", err)
	}
	return nil
}

// WaitPassing waits until a dry-run workspace Pod is admitted without the status annotation:
// with the webhook down, this is the moment failurePolicy Ignore is in effect.
func (inj *Injector) WaitPassing(ctx context.Context, timeout time.Duration) error {
	var last string
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		pod, err := inj.DryRunCreate(ctx, ProbeNamespace, WorkspacePod("e2e-probe", nil))
		switch {
		case err != nil:
			last = err.Error()
			return false, nil
		case pod.Annotations[KeyStatus] != "":
			last = "still mutated: " + pod.Annotations[KeyStatus]
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for a probe Pod to pass un-mutated (last: %s): %w", last, err)
	}
	return nil
}
