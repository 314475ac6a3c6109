//go:build e2e && linux

package faults

import (
	"context"
	"errors"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// probeLabel selects the policy probe Pods: only the registration's second webhook (policyProbe)
// sees them.
const probeLabel = "faults.e2e.tilt-lib/policy-probe"

// registration is the chart's registration (harness.WebhookConfig) plus a second webhook with the
// same failurePolicy, on a Service without endpoints, for probe Pods only: whether a probe Pod is
// admitted or refused shows which policy the API server applies now (both webhooks change in one
// object, so the probe tells when the whole update is in effect).
func (c *cluster) registration(policy admissionv1.FailurePolicyType) *admissionv1.MutatingWebhookConfiguration {
	cfg := harness.WebhookConfig(c.svc, c.cert.CABundle, policy)
	probe := *cfg.Webhooks[0].DeepCopy()
	probe.Name = "policy-probe.faults.e2e.tilt-lib"
	probe.ClientConfig.Service = &admissionv1.ServiceReference{
		Namespace: c.probeSvc.Namespace, Name: c.probeSvc.Name, Port: ptr.To(int32(c.probeSvc.Port)), Path: ptr.To("/probe"),
	}
	probe.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{probeLabel: "true"}}
	cfg.Webhooks = append(cfg.Webhooks, probe)
	return cfg
}

// setPolicy registers policy and waits until the API server applies it.
func (c *cluster) setPolicy(ctx context.Context, policy admissionv1.FailurePolicyType) error {
	if err := harness.RegisterWebhook(ctx, c.cp.Client, c.registration(policy)); err != nil {
		return err
	}
	return c.waitPolicy(ctx, policy)
}

func (c *cluster) waitPolicy(ctx context.Context, policy admissionv1.FailurePolicyType) error {
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "policy-probe", Labels: map[string]string{probeLabel: "true"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		_, err := c.cp.Client.CoreV1().Pods(harness.ProbeNamespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return (err == nil) == (policy == admissionv1.Ignore), nil
	})
	if err != nil {
		return fmt.Errorf("the API server never applied failurePolicy %s: %w", policy, err)
	}
	return nil
}

// waitInjecting waits until a dry-run workspace Pod comes back injected through the API server.
func (c *cluster) waitInjecting(ctx context.Context, timeout time.Duration) error {
	var last string
	err := harness.Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		pod, err := c.cp.Client.CoreV1().Pods(harness.ProbeNamespace).Create(ctx, harness.WorkspacePod("probe", nil),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = "status " + pod.Annotations[harness.KeyStatus]
		return pod.Annotations[harness.KeyStatus] != "", nil
	})
	if err != nil {
		return fmt.Errorf("last: %s: %w", last, err)
	}
	return nil
}

// settle waits until every running replica, asked directly, gives a workspace Pod in ns the
// tilt-lib label want: its caches hold the namespace and its ConfigMaps.
func (c *cluster) settle(ctx context.Context, ns, want string) error {
	hc, err := c.directClient()
	if err != nil {
		return err
	}
	for _, r := range c.replicas {
		if !r.wh.Running() {
			continue
		}
		var last string
		err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
			a := review(ctx, hc, r.addr(), ns)
			switch {
			case a.err != nil && ctx.Err() != nil:
				// The deadline cut this call short: keep the last answer for the report.
			case a.err != nil:
				last = a.err.Error()
			case a.Pod == nil:
				last = fmt.Sprintf("HTTP %d, not allowed", a.HTTP)
			default:
				last = "tilt-lib " + a.Pod.Labels[harness.KeyVersion]
				return a.Pod.Labels[harness.KeyVersion] == want, nil
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("%s never answered tilt-lib %s for %s (last: %s): %w", r.name, want, ns, last, err)
		}
	}
	return nil
}

// waitEndpoints waits until the slices say exactly which replicas are ready (want[i]).
func (c *cluster) waitEndpoints(ctx context.Context, want ...bool) error {
	return harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) {
		for i, w := range want {
			if c.eps.readyIn(i) != w {
				return false, nil
			}
		}
		return true, nil
	})
}

// restart starts replica i again and waits until it is ready and in its slice.
func (c *cluster) restart(ctx context.Context, i int) error {
	if err := c.replicas[i].wh.Start(ctx, time.Minute); err != nil {
		return err
	}
	return harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) { return c.eps.readyIn(i), nil })
}

// uninjectedGauge is max over the running replicas of
// tiltlib_workspace_pods{namespace=ns, component="tilt-lib", configmap="none"}, as the dashboard and
// the alert read it.
func (c *cluster) uninjectedGauge(ctx context.Context, ns string) (float64, error) {
	var best float64
	var errs []error
	seen := 0
	for _, r := range c.replicas {
		if !r.wh.Running() {
			continue
		}
		sn, err := harness.Scrape(ctx, r.wh.MetricsAddr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen++
		v := sn.Get(harness.Series{Name: "tiltlib_workspace_pods", Labels: map[string]string{
			"namespace": ns, "component": "tilt-lib", "configmap": "none", "version": "",
		}})
		best = max(best, v)
	}
	if seen == 0 {
		return 0, errors.Join(append(errs, errors.New("no replica to scrape"))...)
	}
	return best, nil
}

// checkGauge waits until the gauge counts exactly the un-injected Pods stored in ns.
func (c *cluster) checkGauge(ctx context.Context, ns string, want int) error {
	var last float64
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		v, err := c.uninjectedGauge(ctx, ns)
		if err != nil {
			return false, nil
		}
		last = v
		return v == float64(want), nil
	})
	if err != nil {
		return fmt.Errorf("tiltlib_workspace_pods{namespace=%q,configmap=\"none\"} is %g, want %d: %w", ns, last, want, err)
	}
	return nil
}
