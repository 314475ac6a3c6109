package main

import (
	"context"
	"fmt"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// register makes arm the only mutating webhook for workspace Pods (armNone: no webhook) and
// waits until the API server uses exactly that: a dry-run create reaches the arm (its request
// count moves, or for ours the Pod comes back injected while no other arm's count moves), or
// for armNone reaches no webhook. failurePolicy is Fail, so a broken arm shows as failed
// creates instead of silently fast ones.
func (c *Cluster) register(ctx context.Context, arm string) error {
	api := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if arm == armNone {
		if err := api.Delete(ctx, harness.WebhookConfigName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("unregistering the webhook: %w", err)
		}
	} else {
		cfg := harness.WebhookConfig(c.Arms[arm].Service, c.CA, admissionregv1.Fail)
		if err := harness.RegisterWebhook(ctx, c.Client, cfg); err != nil {
			return err
		}
	}
	var last string
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		reached, injected, err := c.probe(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("reached %v, injected %t", reached, injected)
		switch arm {
		case armNone:
			return len(reached) == 0 && !injected, nil
		case armOurs:
			return len(reached) == 0 && injected, nil
		}
		return len(reached) == 1 && reached[0] == arm, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the API server to use the %s arm (last: %s): %w", arm, last, err)
	}
	return nil
}

// probe dry-run creates the workspace Pod and reports which comparison arms it reached and
// whether it came back injected.
func (c *Cluster) probe(ctx context.Context) (reached []string, injected bool, err error) {
	counted := comparisonArms
	before := map[string]int64{}
	for _, a := range counted {
		if before[a], err = c.Arms[a].Count(ctx); err != nil {
			return nil, false, err
		}
	}
	pod, err := c.Client.CoreV1().Pods(workNamespace).Create(ctx, c.Pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return nil, false, fmt.Errorf("dry-run create: %w", err)
	}
	for _, a := range counted {
		n, err := c.Arms[a].Count(ctx)
		if err != nil {
			return nil, false, err
		}
		if n != before[a] {
			reached = append(reached, a)
		}
	}
	_, injected = pod.Annotations[harness.KeyInjected]
	return reached, injected, nil
}

// CreateResult is one arm's Pod creations in one round.
type CreateResult struct {
	Latencies
	Failed   int
	FirstErr error
}

// createPods creates n copies of the workspace Pod one after the other (generateName) and
// measures each create call. A create fails when the API server refuses it or when the
// stored Pod is not what the arm stands for: injected by ours, constant and floor, untouched
// otherwise.
func (c *Cluster) createPods(ctx context.Context, arm string, n int) CreateResult {
	pods := c.Client.CoreV1().Pods(workNamespace)
	wantInjected := arm == armOurs || arm == armConstant || arm == armFloor
	lat := make([]time.Duration, 0, n)
	var r CreateResult
	for range n {
		if ctx.Err() != nil {
			break
		}
		pod := c.Pod.DeepCopy()
		t0 := time.Now()
		got, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		lat = append(lat, time.Since(t0))
		if err == nil {
			if _, injected := got.Annotations[harness.KeyInjected]; injected != wantInjected {
				err = fmt.Errorf("pod %s: injected %t, want %t", got.Name, injected, wantInjected)
			}
		}
		if err != nil {
			r.Failed++
			if r.FirstErr == nil {
				r.FirstErr = err
			}
		}
	}
	r.Latencies = Summarize(lat)
	return r
}

// deletePods removes the workspace Pods a round created (no controller-manager here, so
// nothing else would), keeping etcd the same size for every round.
func (c *Cluster) deletePods(ctx context.Context) error {
	zero := int64(0)
	err := c.Client.CoreV1().Pods(workNamespace).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("deleting the workspace Pods: %w", err)
	}
	return nil
}
