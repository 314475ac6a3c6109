//go:build e2e

package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
	"github.com/platform-tools/tilt-lib-injector/pkg/distributor"
)

// TestDistribute runs `webhook distribute` against the real API server through the life of the
// copies: creation in existing and newly selected namespaces, healing, propagation, clashes,
// and orphans kept while mounted.
func TestDistribute(t *testing.T) {
	ctx := context.Background()
	d := newDistSetup(t, "dist")
	lib := d.source(t, "tilt-lib-v2", "v2.0.0", map[string]string{"tilt_lib.star": "v2"})
	tmpl := d.source(t, "tilt-templates", "", map[string]string{"Tiltfile": "t"})
	if _, err := inj.Client.CoreV1().ConfigMaps(d.src).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "tilt-lib-v9"}, Data: map[string]string{"x": "not labelled"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := d.target(t, true)
	unselected := d.target(t, false)
	clashNS := d.target(t, true)
	clash, err := inj.Client.CoreV1().ConfigMaps(clashNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "tilt-lib-v2"}, Data: map[string]string{"mine": "yes"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	w := d.distributor(t, "a", "--grace=3s", "--resync=1m")

	t.Run("copies appear in an existing namespace, without Argo CD tracking", func(t *testing.T) {
		c := waitCM(t, a, lib.Name, "copy", inSyncWith(lib))
		waitCM(t, a, tmpl.Name, "copy", inSyncWith(tmpl))
		if _, ok := c.Labels["app.kubernetes.io/instance"]; ok {
			t.Errorf("Argo CD tracking label copied: %v", c.Labels)
		}
		if _, ok := c.Annotations["argocd.argoproj.io/tracking-id"]; ok {
			t.Errorf("Argo CD tracking annotation copied: %v", c.Annotations)
		}
		if c.Labels[harness.Prefix+distribute.KeySourceNamespace] != d.src || c.Annotations[harness.Prefix+distribute.KeyContentHash] == "" || c.Immutable != nil {
			t.Errorf("copy metadata: labels %v annotations %v immutable %v", c.Labels, c.Annotations, c.Immutable)
		}
		for _, ns := range []string{unselected, d.src} {
			if cm, err := getCM(ctx, ns, "tilt-templates"); err != nil || (cm != nil && ns != d.src) {
				t.Errorf("%s got a copy (%v, %v)", ns, cm, err)
			}
		}
		if cm, _ := getCM(ctx, a, "tilt-lib-v9"); cm != nil {
			t.Error("an unlabelled ConfigMap of the source namespace was distributed")
		}
	})

	t.Run("an unmanaged same-named ConfigMap is reported and never written", func(t *testing.T) {
		waitCM(t, clashNS, tmpl.Name, "copy beside the clash", inSyncWith(tmpl))
		eventFor(t, clashNS, "tilt-lib-v2", distributor.EventNameClash, "without app.kubernetes.io/managed-by")
	})

	b := d.target(t, false)
	t.Run("a newly selected namespace gets copies", func(t *testing.T) {
		d.label(t, b, true)
		waitCM(t, b, lib.Name, "copy", inSyncWith(lib))
		waitCM(t, b, tmpl.Name, "copy", inSyncWith(tmpl))
	})

	t.Run("a deleted copy is restored", func(t *testing.T) {
		var worst time.Duration
		for i := 0; i < 5; i++ {
			lat := restoreLatency(t, a, lib.Name)
			t.Logf("copy restored %s after its deletion", lat.Round(time.Millisecond))
			worst = max(worst, lat)
			waitCM(t, a, lib.Name, "restored copy", inSyncWith(lib))
		}
		if worst > 2*time.Second {
			t.Errorf("worst restore took %s, want at most 2s", worst)
		}
	})

	t.Run("an edited copy is reverted", func(t *testing.T) {
		c, err := getCM(ctx, a, lib.Name)
		if c == nil {
			t.Fatalf("no copy to edit (%v)", err)
		}
		c.Data["tilt_lib.star"] = "edited"
		if _, err := inj.Client.CoreV1().ConfigMaps(a).Update(ctx, c, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitCM(t, a, lib.Name, "reverted copy", inSyncWith(lib))
	})

	t.Run("source data and version-label changes propagate", func(t *testing.T) {
		src, err := getCM(ctx, d.src, lib.Name)
		if src == nil {
			t.Fatalf("no source (%v)", err)
		}
		src.Data["tilt_lib.star"] = "v2 patched"
		src.Labels["version"] = "v2.0.1"
		if lib, err = inj.Client.CoreV1().ConfigMaps(d.src).Update(ctx, src, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitCM(t, a, lib.Name, "propagated", inSyncWith(lib))
		waitCM(t, b, lib.Name, "propagated", inSyncWith(lib))
	})

	t.Run("the webhook's configmap_missing warning stops once the distributor has copied", func(t *testing.T) {
		pinned := namespace(t, "dist-pinned", map[string]string{harness.KeyVersion: "v2"})
		wc, warnings, err := harness.WarningClient(inj.Config)
		if err != nil {
			t.Fatal(err)
		}
		// Dry-run workspace Pods: the webhook answers them without counting them.
		probe := func(ctx context.Context) (string, []string, error) {
			p, err := wc.CoreV1().Pods(pinned).Create(ctx, harness.WorkspacePod("probe", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				return "", nil, err
			}
			rec, _, err := harness.InjectedRecord(p)
			if err != nil || rec.Lib == nil {
				return "", warnings.Take(), err
			}
			return rec.Lib.ConfigMap, warnings.Take(), nil
		}
		missing := func(ws []string) bool {
			return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, "configmap_missing") })
		}
		cm, ws, err := probe(ctx)
		if err != nil || !missing(ws) {
			t.Fatalf("before distribution: lib %q, warnings %q (%v); want a configmap_missing warning", cm, ws, err)
		}
		d.label(t, pinned, true)
		waitCM(t, pinned, lib.Name, "copy", inSyncWith(lib))
		err = harness.Poll(ctx, 15*time.Second, func(ctx context.Context) (bool, error) {
			cm, ws, err = probe(ctx)
			return err == nil && cm == lib.Name && !missing(ws), err
		})
		if err != nil {
			t.Fatalf("after distribution: lib %q, warnings %q: %v", cm, ws, err)
		}
	})

	t.Run("an orphan stays while a Pod mounts it and goes after the grace once none does", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "mounts-lib"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes: []corev1.Volume{{Name: "lib", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: lib.Name}}}}}}}
		if _, err := inj.Client.CoreV1().Pods(b).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		d.label(t, b, false)
		waitCM(t, b, lib.Name, "marked orphaned", func(c *corev1.ConfigMap) bool {
			return c != nil && c.Annotations[harness.Prefix+distribute.KeyOrphanedAt] != ""
		})
		// The unmounted copy goes after the grace; the mounted one stays and says why.
		waitCM(t, b, tmpl.Name, "orphan deleted after its grace", absent)
		eventFor(t, b, lib.Name, distributor.EventStillMounted, "1 live Pods still mount it")
		if c, err := getCM(ctx, b, lib.Name); err != nil || c == nil {
			t.Fatalf("a mounted orphan was deleted (%v)", err)
		}
		if err := inj.Client.CoreV1().Pods(b).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		waitCM(t, b, lib.Name, "orphan deleted once no Pod mounts it", absent)
	})

	t.Run("the source and the clash are never written by the distributor", func(t *testing.T) {
		for _, ns := range []string{d.src, clashNS} {
			cms, err := inj.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, cm := range cms.Items {
				if ns == clashNS && cm.Name != "tilt-lib-v2" {
					continue
				}
				if slices.Contains(writers(&cm), distributor.FieldManager) {
					t.Errorf("%s/%s written by the distributor (managers %v)", ns, cm.Name, writers(&cm))
				}
			}
		}
		now, _ := getCM(ctx, clashNS, "tilt-lib-v2")
		if now.ResourceVersion != clash.ResourceVersion {
			t.Errorf("the clash changed: resourceVersion %s, was %s", now.ResourceVersion, clash.ResourceVersion)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		sn := scrapeDist(t, w)
		if sn.Get(distSeries("tiltlib_distribute_copies", "state", "conflict")) != 1 {
			t.Errorf("conflict gauge:\n%v", sn.Lines("tiltlib_distribute_copies"))
		}
		if sn.Get(distSeries("tiltlib_distribute_last_success_timestamp_seconds")) < float64(time.Now().Add(-time.Minute).Unix()) {
			t.Errorf("last success stale:\n%v", sn.Lines("tiltlib_distribute_last_success_timestamp_seconds"))
		}
		if sn.Get(distSeries("tiltlib_distribute_writes_total", "kind", "delete")) != 2 {
			t.Errorf("deletes:\n%v", sn.Lines("tiltlib_distribute_writes_total"))
		}
	})
}
