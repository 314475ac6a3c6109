package harness

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// WaitRunningPod waits up to timeout until Deployment d has exactly one Pod, other than the one
// with UID not (a Pod being replaced; "" for none), Running with every container ready, and
// returns it. On failure the error carries the last Pod seen (PodSummary), for the node tests and
// the demo alike.
func WaitRunningPod(ctx context.Context, c kubernetes.Interface, d *appsv1.Deployment, not types.UID, timeout time.Duration) (*corev1.Pod, error) {
	var pod *corev1.Pod
	last := "no Pod yet"
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		pods, err := c.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil || len(pods.Items) != 1 || pods.Items[0].UID == not {
			last = fmt.Sprintf("%d Pods (%v)", len(pods.Items), err)
			return false, nil
		}
		pod = &pods.Items[0]
		last = PodSummary(pod)
		if pod.Status.Phase != corev1.PodRunning {
			return false, nil
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if !cs.Ready {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: no running Pod (last: %s): %w", d.Namespace, d.Name, last, err)
	}
	return pod, nil
}

// PodSummary is one line on where a Pod stands: phase, node, unmet conditions with their
// messages (the scheduler's reason among them) and waiting or ended containers.
func PodSummary(p *corev1.Pod) string {
	s := fmt.Sprintf("%s phase=%s node=%q", p.Name, p.Status.Phase, p.Spec.NodeName)
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			s += fmt.Sprintf(" %s: %s", c.Type, c.Message)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			s += fmt.Sprintf(" %s waiting (%s: %s)", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			s += fmt.Sprintf(" %s terminated (%s, exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		}
	}
	return s
}
