//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// distSetup is one scenario's source namespace and the label that selects its targets.
type distSetup struct {
	src      string // source namespace (also the Lease's)
	key, val string // target namespaces carry key=val
}

func newDistSetup(t *testing.T, prefix string) distSetup {
	t.Helper()
	src := namespace(t, prefix+"-src", nil)
	d := distSetup{src: src, key: src, val: "true"} // a key per setup: one namespace can be the target of two
	// The source namespace matches the selector too: it must still never be a target.
	d.label(t, src, true)
	return d
}

func (d distSetup) selector() string { return d.key + "=" + d.val }

// target creates a namespace, selected or not.
func (d distSetup) target(t *testing.T, selected bool) string {
	t.Helper()
	ns := namespace(t, "dist-target", nil)
	if selected {
		d.label(t, ns, true)
	}
	return ns
}

// label selects (or deselects) a namespace: without a controller-manager namespaces are never
// deleted, so deselection is how a namespace stops being a target here.
func (d distSetup) label(t *testing.T, ns string, on bool) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, d.key, d.val)
	if !on {
		patch = fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, d.key)
	}
	if _, err := inj.Client.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("labelling namespace %s: %v", ns, err)
	}
}

// source creates a source ConfigMap as Argo CD would sync it: tracking label and annotation
// included (they must never reach a copy).
func (d distSetup) source(t *testing.T, name, version string, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	l := map[string]string{harness.Prefix + distribute.KeyDistribute: "true", "app.kubernetes.io/instance": "platform-lib"}
	if version != "" {
		l["version"] = version
	}
	cm, err := inj.Client.CoreV1().ConfigMaps(d.src).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l,
			Annotations: map[string]string{"argocd.argoproj.io/tracking-id": "platform-lib:/ConfigMap:" + d.src + "/" + name}},
		Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating source %s: %v", name, err)
	}
	return cm
}

// distributor runs `webhook distribute` (the binary the harness built) for d.
func (d distSetup) distributor(t *testing.T, name string, extra ...string) *harness.Webhook {
	t.Helper()
	metricsAddr, probeAddr, err := harness.SideAddrs()
	if err != nil {
		t.Fatal(err)
	}
	w := &harness.Webhook{
		Binary: inj.Webhook.Binary,
		Args: append([]string{"distribute", "--kubeconfig=" + inj.Kubeconfig, "--source-namespace=" + d.src,
			"--namespace-selector=" + d.selector(), "--lease-namespace=" + d.src,
			"--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=" + probeAddr,
			"--lease-duration=4s", "--renew-deadline=3s", "--retry-period=250ms", "--qps=200", "--burst=400",
			"--log-level=debug"}, extra...),
		ProbeAddr: probeAddr, MetricsAddr: metricsAddr,
		LogPath: filepath.Join(inj.WorkDir, "distribute-"+d.src+"-"+name+".log"),
	}
	if err := w.Start(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(30 * time.Second); err != nil {
			t.Errorf("stopping distributor %s: %v", name, err)
		}
	})
	return w
}

func getCM(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm, err := inj.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return cm, err
}

// waitCM waits until the ConfigMap ns/name satisfies ok (nil: absent).
func waitCM(t *testing.T, ns, name, what string, ok func(*corev1.ConfigMap) bool) *corev1.ConfigMap {
	t.Helper()
	var last *corev1.ConfigMap
	err := harness.Poll(context.Background(), 30*time.Second, func(ctx context.Context) (bool, error) {
		cm, err := getCM(ctx, ns, name)
		last = cm
		return err == nil && ok(cm), err
	})
	if err != nil {
		t.Fatalf("%s/%s: %s: %v (last: %+v)", ns, name, what, err, last)
	}
	return last
}

// inSyncWith: the copy holds src's data and version label, and the marks of a managed copy.
func inSyncWith(src *corev1.ConfigMap) func(*corev1.ConfigMap) bool {
	return func(c *corev1.ConfigMap) bool {
		return c != nil && maps.Equal(c.Data, src.Data) && c.Labels["version"] == src.Labels["version"] &&
			c.Labels[distribute.ManagedByLabel] == distribute.ManagedBy && c.Annotations[harness.Prefix+distribute.KeyOrphanedAt] == ""
	}
}

func absent(c *corev1.ConfigMap) bool { return c == nil }

// writers lists the field managers that ever wrote obj.
func writers(obj metav1.Object) []string {
	var out []string
	for _, m := range obj.GetManagedFields() {
		out = append(out, m.Manager)
	}
	return out
}

// eventFor waits for an Event with reason about ns/name whose message contains fragment.
func eventFor(t *testing.T, ns, name, reason, fragment string) {
	t.Helper()
	sel := fields.Set{"involvedObject.name": name, "reason": reason}.AsSelector().String()
	var seen []string
	err := harness.Poll(context.Background(), 30*time.Second, func(ctx context.Context) (bool, error) {
		evs, err := inj.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range evs.Items {
			seen = append(seen, e.Message)
			if strings.Contains(e.Message, fragment) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s Event on %s/%s saying %q (seen %q): %v", reason, ns, name, fragment, seen, err)
	}
}

// restoreLatency deletes ns/name and returns how long until the copy is back, timed on a watch.
func restoreLatency(t *testing.T, ns, name string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cm, err := inj.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := inj.Client.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: cm.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	if err := inj.Client.CoreV1().ConfigMaps(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for ev := range w.ResultChan() {
		if ev.Type == watch.Added {
			return time.Since(start)
		}
	}
	t.Fatalf("%s/%s not restored: %v", ns, name, ctx.Err())
	return 0
}

func scrapeDist(t *testing.T, w *harness.Webhook) harness.Snapshot {
	t.Helper()
	sn, err := harness.Scrape(context.Background(), w.MetricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func distSeries(name string, kv ...string) harness.Series {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return harness.Series{Name: name, Labels: l}
}
