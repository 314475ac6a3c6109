//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// Adoption gauges and their label names, as the contract spells them.
const (
	workspacePods     = "tiltlib_workspace_pods"
	configMapVersions = "tiltlib_configmap_versions"
	readyGauge        = "tiltlib_ready"
)

// gaugeDeadline bounds how long a Pod change takes to reach the informer (a watch event: well
// under a second in practice).
const gaugeDeadline = 30 * time.Second

// pods is one tiltlib_workspace_pods sample.
func pods(namespace, component, configMap, version string) string {
	return harness.Series{Name: workspacePods, Labels: map[string]string{
		"namespace": namespace, "component": component, "configmap": configMap, "version": version,
	}}.Key()
}

// TestAdoptionGauges: on a real API server, two workspaces pinned to tilt-lib-v2 by their
// Namespace, one on the default tilt-lib, and one the webhook never saw (created without the
// workspace label, labelled afterwards: the objectSelector did not match at admission). A Pod
// outside the workspace selector is not counted. The gauge shows exactly that, follows a deletion
// and a ConfigMap's new version label, and a second replica exports identical series (what makes
// max across replicas correct).
func TestAdoptionGauges(t *testing.T) {
	ctx := context.Background()
	nsV2 := namespace(t, "adopt-v2", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	nsDefault := namespace(t, "adopt-default", nil, "tilt-lib", "tilt-templates")
	settle(t, nsV2, libV2Namespace, templatesDefault)
	settle(t, nsDefault, libDefault, templatesDefault)

	admitWorkspace(t, nsV2, "ws-v2-a", nil, libV2Namespace, templatesDefault, "none")
	admitWorkspace(t, nsV2, "ws-v2-b", nil, libV2Namespace, templatesDefault, "none")
	admitWorkspace(t, nsDefault, "ws-default", nil, libDefault, templatesDefault, "none")
	straggler := uninjectedWorkspace(t, nsDefault, "ws-straggler")
	assertUntouched(t, straggler)
	other := harness.WorkspacePod("not-a-workspace", nil)
	delete(other.Labels, harness.WorkspaceLabel)
	createPod(t, nsDefault, other) // the webhook does not see it, and neither does the gauge

	want := map[string]float64{
		pods(nsV2, "tilt-lib", "tilt-lib-v2", "2.0.1"):               2,
		pods(nsV2, "tilt-templates", "tilt-templates", "1.1.0"):      2,
		pods(nsDefault, "tilt-lib", "tilt-lib", "1.4.0"):             1,
		pods(nsDefault, "tilt-templates", "tilt-templates", "1.1.0"): 1,
		pods(nsDefault, "tilt-lib", "none", ""):                      1,
		pods(nsDefault, "tilt-templates", "none", ""):                1,
	}
	waitWorkspacePods(t, inj.Webhook.MetricsAddr, want, nsV2, nsDefault)

	t.Run("Deletion", func(t *testing.T) {
		err := inj.Client.CoreV1().Pods(nsV2).Delete(ctx, "ws-v2-b", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
		if err != nil {
			t.Fatal(err)
		}
		want[pods(nsV2, "tilt-lib", "tilt-lib-v2", "2.0.1")] = 1
		want[pods(nsV2, "tilt-templates", "tilt-templates", "1.1.0")] = 1
		waitWorkspacePods(t, inj.Webhook.MetricsAddr, want, nsV2, nsDefault)
	})

	t.Run("ConfigMapRelabelled", func(t *testing.T) {
		// The mount has no subPath: the kubelet updates the files, so the running workspace is on
		// the ConfigMap's new version without a restart, and so is the gauge.
		patch := `{"metadata":{"labels":{"version":"2.0.2"}}}`
		if _, err := inj.Client.CoreV1().ConfigMaps(nsV2).Patch(ctx, "tilt-lib-v2", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		delete(want, pods(nsV2, "tilt-lib", "tilt-lib-v2", "2.0.1"))
		want[pods(nsV2, "tilt-lib", "tilt-lib-v2", "2.0.2")] = 1
		waitWorkspacePods(t, inj.Webhook.MetricsAddr, want, nsV2, nsDefault)
	})

	t.Run("OwnNamespaceIsNotAWorkspace", func(t *testing.T) { ownNamespaceIsNotAWorkspace(t, want, nsV2, nsDefault) })

	t.Run("ConfigMapVersions", func(t *testing.T) {
		// Oracle: the API server's own list of our ConfigMaps, counted per name and version label.
		err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
			exp, err := publishedVersions(ctx)
			if err != nil {
				return false, err
			}
			sn, err := inj.Scrape(ctx)
			if err != nil {
				return false, err
			}
			got := samples(sn, configMapVersions, nil)
			if !maps.Equal(got, exp) {
				return false, fmt.Errorf("%s\n got %v\nwant %v", configMapVersions, got, exp)
			}
			return true, nil
		})
		if err != nil {
			t.Error(err)
		}
	})

	t.Run("TwoReplicas", func(t *testing.T) {
		second := startExtraWebhook(t, "adoption", webhookFlags...)
		var last string
		err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
			a, err := harness.Scrape(ctx, inj.Webhook.MetricsAddr)
			if err != nil {
				return false, err
			}
			b, err := harness.Scrape(ctx, second.MetricsAddr)
			if err != nil {
				return false, err
			}
			for _, name := range []string{workspacePods, configMapVersions} {
				if ga, gb := samples(a, name, nil), samples(b, name, nil); len(ga) == 0 || !maps.Equal(ga, gb) {
					last = fmt.Sprintf("%s differs:\n first  %v\n second %v", name, ga, gb)
					return false, nil
				}
			}
			for _, sn := range []harness.Snapshot{a, b} {
				if r := sn.Get(harness.Series{Name: readyGauge, Labels: map[string]string{}}); r != 1 {
					last = fmt.Sprintf("%s = %g on a ready replica", readyGauge, r)
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Errorf("replicas never agreed (%v): %s", err, last)
		}
		waitWorkspacePods(t, second.MetricsAddr, want, nsV2, nsDefault)
	})
}

// ownNamespaceIsNotAWorkspace: the chart's own ConfigMaps (named after a base: tilt-lib-injector-
// dashboard, -client-ca, -versions), a tilt-lib-v2 and a workspace Pod in the injector's namespace
// reach neither gauge. A control ConfigMap and Pod created afterwards in a workspace namespace show
// up first: the watch delivers one resource's events in order, so by then the injector has seen
// (and left out) everything in its own namespace.
func ownNamespaceIsNotAWorkspace(t *testing.T, want map[string]float64, namespaces ...string) {
	ctx := context.Background()
	own := inj.Service.Namespace
	for _, name := range []string{"tilt-lib-injector-dashboard", "tilt-lib-injector-client-ca", "tilt-lib-injector-versions", "tilt-lib-v2"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"version": "9.9.9"}}}
		if _, err := inj.Client.CoreV1().ConfigMaps(own).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = inj.Client.CoreV1().ConfigMaps(own).Delete(context.Background(), name, metav1.DeleteOptions{})
		})
	}
	ownPod := uninjectedWorkspace(t, own, "ws-in-the-injectors-namespace")
	t.Cleanup(func() {
		_ = inj.Client.CoreV1().Pods(own).Delete(context.Background(), ownPod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
	})
	control := namespaces[len(namespaces)-1]
	createConfigMap(t, control, "tilt-lib-v3")
	uninjectedWorkspace(t, control, "ws-control")
	want[pods(control, "tilt-lib", "none", "")]++
	want[pods(control, "tilt-templates", "none", "")]++
	waitWorkspacePods(t, inj.Webhook.MetricsAddr, want, namespaces...)
	control3 := harness.Series{Name: configMapVersions, Labels: map[string]string{"component": "tilt-lib", "configmap": "tilt-lib-v3", "version": published["tilt-lib-v3"]}}.Key()
	err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
		sn, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		if _, ok := samples(sn, configMapVersions, nil)[control3]; !ok {
			return false, nil
		}
		for k := range samples(sn, configMapVersions, nil) {
			if strings.Contains(k, "9.9.9") || strings.Contains(k, "tilt-lib-injector") {
				t.Errorf("%s counts a ConfigMap of the injector's namespace: %s", configMapVersions, k)
			}
		}
		if got := samples(sn, workspacePods, []string{own}); len(got) > 0 {
			t.Errorf("%s counts the injector's namespace: %s", workspacePods, lines(got))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("the control ConfigMap never reached %s: %v", configMapVersions, err)
	}
}

// TestAdoptionUnsyncedReplica: a replica whose caches never sync (no RBAC) says so on the
// metrics endpoint: tiltlib_ready 0, like its /readyz, and no adoption series at all rather than
// zeros that a max across replicas would hide but a dashboard of this replica would show.
func TestAdoptionUnsyncedReplica(t *testing.T) {
	w := unsyncedWebhook(t, "adoption-unsynced")
	var sn harness.Snapshot
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		var err error
		sn, err = harness.Scrape(ctx, w.MetricsAddr)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("scraping the unsynced replica: %v", err)
	}
	ready, ok := sn.Values[harness.Series{Name: readyGauge, Labels: map[string]string{}}.Key()]
	if !ok || ready != 0 {
		t.Errorf("%s = %g (exported %v) while /readyz fails, want 0", readyGauge, ready, ok)
	}
	for _, name := range []string{workspacePods, configMapVersions} {
		if got := samples(sn, name, nil); len(got) > 0 {
			t.Errorf("unsynced replica exports %s: %s", name, lines(got))
		}
	}
}

// uninjectedWorkspace creates a workspace Pod the webhook never reviews: created without the
// workspace label (the registration's objectSelector does not match, so the API server does not
// call the webhook), then labelled (an UPDATE, which the webhook is not registered for).
func uninjectedWorkspace(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	p := harness.WorkspacePod(name, nil)
	delete(p.Labels, harness.WorkspaceLabel)
	createPod(t, ns, p)
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, harness.WorkspaceLabel, harness.WorkspaceValue)
	stored, err := inj.Client.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("labelling %s/%s as a workspace: %v", ns, name, err)
	}
	return stored
}

// waitWorkspacePods waits until the tiltlib_workspace_pods series of namespaces scraped from addr are
// exactly want: every wanted series with its value, and no other series in those namespaces.
func waitWorkspacePods(t *testing.T, addr string, want map[string]float64, namespaces ...string) {
	t.Helper()
	var got map[string]float64
	start := time.Now()
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		sn, err := harness.Scrape(ctx, addr)
		if err != nil {
			return false, err
		}
		got = samples(sn, workspacePods, namespaces)
		return maps.Equal(got, want), nil
	})
	if err != nil {
		t.Fatalf("%s on %s never matched (%v):\n got  %s\n want %s", workspacePods, addr, err, lines(got), lines(want))
	}
	t.Logf("%s on %s matched after %s", workspacePods, addr, time.Since(start).Round(time.Millisecond))
}

// samples returns the samples of metric name, by series key; with namespaces, only those whose
// namespace label is one of them.
func samples(sn harness.Snapshot, name string, namespaces []string) map[string]float64 {
	out := map[string]float64{}
	f, ok := sn.Families[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if namespaces != nil && !slices.Contains(namespaces, l["namespace"]) {
			continue
		}
		out[harness.Series{Name: name, Labels: l}.Key()] = m.GetGauge().GetValue()
	}
	return out
}

// publishedVersions counts, from the API server, the namespaces holding each of our ConfigMaps
// by version label: what tiltlib_configmap_versions must show.
func publishedVersions(ctx context.Context) (map[string]float64, error) {
	cms, err := inj.Client.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, cm := range cms.Items {
		if cm.Namespace == inj.Service.Namespace {
			continue // the injector's own namespace is never a workspace namespace
		}
		for _, base := range []string{"tilt-lib", "tilt-templates"} {
			if cm.Name == base || strings.HasPrefix(cm.Name, base+"-") {
				out[harness.Series{Name: configMapVersions, Labels: map[string]string{
					"component": base, "configmap": cm.Name, "version": cm.Labels["version"],
				}}.Key()]++
			}
		}
	}
	return out, nil
}

func lines(m map[string]float64) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s %g", k, m[k]))
	}
	return "\n   " + strings.Join(out, "\n   ")
}
