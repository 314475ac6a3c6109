//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// run is one fault under one failurePolicy: two fresh namespaces (one pinned to v2, one on the
// defaults), the load through them, and the count of what was stored.
type run struct {
	t       *testing.T
	id      string
	policy  admissionv1.FailurePolicyType
	pinned  string
	plain   string
	oracle  *oracle
	load    *load
	results result
}

// result is one row of the matrix.
type result struct {
	Fault, Policy string
	// Sent creations; Created succeeded; Failed were refused because of the webhook (failed call
	// under Fail, or a denial); APIDown could not reach the API server (its own restart).
	Sent, Created, Failed, APIDown, Other int
	// Uninjected stored Pods without the status annotation; Wrong stored Pods whose tilt-lib or
	// tilt-templates version is not the oracle's.
	Uninjected, Wrong int
	// Notes: what else was measured (in flight at the kill, time to honour a pin, ...).
	Notes []string
	// errors: one message of each kind, for the log; firstErr and lastErr: when the first and
	// last failed creation were sent.
	errors            map[string]int
	firstErr, lastErr time.Time
}

func (r result) row() string {
	return fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %d | %s |", r.Fault, r.Policy, r.Sent, r.Created, r.Failed,
		r.Uninjected, r.Wrong, strings.Join(append([]string{fmt.Sprintf("API server unreachable: %d", r.APIDown)}, r.Notes...), "; "))
}

// newRun prepares the namespaces (pins and ConfigMaps), applies the policy and waits until every
// ready replica decides for the new namespaces as the oracle does.
func newRun(t *testing.T, fault string, policy admissionv1.FailurePolicyType) *run {
	t.Helper()
	ctx := t.Context()
	id := strings.ToLower(fmt.Sprintf("%s-%s", fault, policy))
	r := &run{t: t, id: id, policy: policy, oracle: newOracle(), results: result{Fault: fault, Policy: string(policy), errors: map[string]int{}}}
	r.pinned = mkNamespace(t, id+"-pinned", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	r.plain = mkNamespace(t, id+"-plain", nil, "tilt-lib", "tilt-templates")
	r.oracle.set(r.pinned, "v2")
	r.oracle.set(r.plain, defaultLabel)
	if err := c.setPolicy(ctx, policy); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{r.pinned, r.plain} {
		if err := c.settle(ctx, ns, r.oracle.current(ns)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func mkNamespace(t *testing.T, name string, annotations map[string]string, configMaps ...string) string {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}
	if _, err := c.cp.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	for _, cm := range configMaps {
		version := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(cm, "tilt-lib"), "tilt-templates"), "-")
		if version == "" {
			version = "1.0.0"
		}
		obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm, Labels: map[string]string{"version": version}},
			Data: map[string]string{"tilt_lib.star": "# " + cm}}
		if _, err := c.cp.Client.CoreV1().ConfigMaps(name).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating ConfigMap %s/%s: %v", name, cm, err)
		}
	}
	return name
}

// start begins the load over both namespaces.
func (r *run) start() {
	r.load = startLoad(c.cp.Client, r.id, r.pinned, r.plain)
	// A run that fails half-way must not leave its load creating Pods under the next run.
	r.t.Cleanup(func() { r.load.stopOnce() })
}

// finish stops the load and counts what was sent, refused and stored.
func (r *run) finish() result {
	r.t.Helper()
	attempts := r.load.finish()
	res := &r.results
	byName := map[string]attempt{}
	for _, a := range attempts {
		res.Sent++
		byName[a.name] = a
		if a.err == nil {
			res.Created++
			continue
		}
		switch classify(a.err) {
		case classWebhook:
			res.Failed++
		case classAPI:
			res.APIDown++
		default:
			res.Other++
		}
		res.errors[firstLine(a.err.Error())]++
		if res.firstErr.IsZero() {
			res.firstErr = a.start
		}
		res.lastErr = a.start
	}
	for _, ns := range []string{r.pinned, r.plain} {
		pods, err := c.cp.Client.CoreV1().Pods(ns).List(r.t.Context(), metav1.ListOptions{LabelSelector: runLabel + "=" + r.id})
		if err != nil {
			r.t.Fatalf("listing the Pods of %s: %v", ns, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			a, ok := byName[p.Name]
			if !ok {
				r.t.Errorf("stored Pod %s/%s was never sent", ns, p.Name)
				continue
			}
			if a.err != nil {
				// A creation the client saw fail but the API server stored (a timeout after the write).
				res.Notes = append(res.Notes, fmt.Sprintf("%s stored although its creation failed (%v)", p.Name, firstLine(a.err.Error())))
			}
			if p.Annotations[harness.KeyStatus] == "" {
				res.Uninjected++
				continue
			}
			lib, tpl := p.Labels[harness.KeyVersion], p.Labels[harness.KeyTemplatesVersion]
			if !r.oracle.accepts(ns, a.start, a.end, lib) || tpl != defaultLabel {
				res.Wrong++
				if res.Wrong <= 5 {
					r.t.Logf("wrong version: %s/%s sent %s answered %s: tilt-lib %q, tilt-templates %q",
						ns, p.Name, a.start.Format("15:04:05.000"), a.end.Format("15:04:05.000"), lib, tpl)
				}
			}
		}
	}
	return *res
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// report logs the row and the distinct errors, and appends the row to $TILTLIB_FAULTS_REPORT.
func (r *run) report(res result) {
	r.t.Helper()
	msgs := make([]string, 0, len(res.errors))
	for m, n := range res.errors {
		msgs = append(msgs, fmt.Sprintf("%d× %s", n, m))
	}
	sort.Strings(msgs)
	r.t.Logf("RESULT %s", res.row())
	if !res.firstErr.IsZero() {
		r.t.Logf("  failed creations sent from %s to %s", res.firstErr.Format("15:04:05.000"), res.lastErr.Format("15:04:05.000"))
	}
	for _, m := range msgs {
		r.t.Logf("  error: %s", m)
	}
	if path := os.Getenv("TILTLIB_FAULTS_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			fmt.Fprintln(f, res.row())
			_ = f.Close()
		}
	}
}

// faultLength is how long the load runs around a fault's action (before + after it).
func faultLength() time.Duration {
	if *full {
		return 20 * time.Second
	}
	return 3 * time.Second
}

// hold keeps the load running for d: the fault's definition (a 2 s kill, a 10 s outage) or the
// load around it, not a wait for a condition.
func hold(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
