//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDistributeCleanup: `webhook distribute --cleanup --grace 0` (after an uninstall) deletes
// every copy of its source namespace that no live Pod mounts, keeps the mounted one, and leaves
// another source namespace's copies alone.
func TestDistributeCleanup(t *testing.T) {
	ctx := context.Background()
	d := newDistSetup(t, "clean")
	other := newDistSetup(t, "clean-other")
	lib := d.source(t, "tilt-lib", "v1", map[string]string{"tilt_lib.star": "v1"})
	tmpl := d.source(t, "tilt-templates", "", map[string]string{"Tiltfile": "t"})
	ns := d.target(t, true)
	other.label(t, ns, true) // the other distributor's target too
	otherLib := other.source(t, "tilt-lib-v2", "v2", map[string]string{"tilt_lib.star": "v2"})

	w := d.distributor(t, "before-uninstall")
	ow := other.distributor(t, "other")
	waitCM(t, ns, lib.Name, "copy", inSyncWith(lib))
	waitCM(t, ns, tmpl.Name, "copy", inSyncWith(tmpl))
	waitCM(t, ns, otherLib.Name, "the other source's copy", inSyncWith(otherLib))
	if err := w.Stop(30 * time.Second); err != nil { // the uninstall
		t.Fatal(err)
	}
	if err := ow.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "mounts-templates"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
		Volumes: []corev1.Volume{{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: tmpl.Name}}}}}}}}}}
	if _, err := inj.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(inj.Webhook.Binary, "distribute", "--cleanup", "--grace=0", "--kubeconfig="+inj.Kubeconfig,
		"--source-namespace="+d.src, "--metrics-bind-address=0", "--health-probe-bind-address=0").CombinedOutput()
	if err != nil {
		t.Fatalf("cleanup: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cleanup: 1 deleted, 0 kept (grace 0s not over), 1 kept (live Pods mount them)") {
		t.Errorf("cleanup said:\n%s", out)
	}
	if c, err := getCM(ctx, ns, lib.Name); err != nil || c != nil {
		t.Errorf("the unmounted copy survived cleanup (%v)", err)
	}
	if c, err := getCM(ctx, ns, tmpl.Name); err != nil || c == nil {
		t.Errorf("the mounted copy was deleted (%v)", err)
	}
	if c, err := getCM(ctx, ns, otherLib.Name); err != nil || c == nil || c.Annotations["tilt-lib.platform/orphaned-at"] != "" {
		t.Errorf("another source namespace's copy was touched: %+v (%v)", c, err)
	}
	if src, err := getCM(ctx, d.src, lib.Name); err != nil || src == nil {
		t.Errorf("the source was deleted (%v)", err)
	}
}
