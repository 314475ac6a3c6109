//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// TestDistributePolicy installs the chart's distribution objects (helm template, kubectl apply)
// and proves, as the distributor's ServiceAccount, that the ValidatingAdmissionPolicy denies every
// write but to our managed copies outside the source namespace, and that the chart's RBAC is
// enough for the real distributor.
func TestDistributePolicy(t *testing.T) {
	ctx := context.Background()
	d := newDistSetup(t, "pol")
	rel := namespace(t, "dist-release", nil)
	target := d.target(t, true)
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := helmCmd(t, "template", "pol", filepath.Join(root, "charts", "tilt-lib-injector"), "-n", rel,
		"--show-only", "templates/distribution.yaml", "--set", "distribution.enabled=true",
		"--set", "distribution.sourceNamespace="+d.src, "--set", "distribution.namespaceSelector="+d.selector())
	manifest := filepath.Join(inj.WorkDir, rel+"-distribution.yaml")
	if err := os.WriteFile(manifest, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(inj.KubectlPath(), "--kubeconfig", inj.Kubeconfig, "apply", "-f", manifest).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, b)
	}
	sa := "pol-tilt-lib-injector-distribute"

	as := rest.CopyConfig(inj.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + rel + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + rel, "system:authenticated"}}
	c, err := kubernetes.NewForConfig(as)
	if err != nil {
		t.Fatal(err)
	}
	managed := map[string]string{distribute.ManagedByLabel: distribute.ManagedBy}
	cm := func(ns, name string, l map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}, Data: map[string]string{"k": "v"}}
	}
	create := func(x *corev1.ConfigMap) error {
		_, err := c.CoreV1().ConfigMaps(x.Namespace).Create(ctx, x, metav1.CreateOptions{})
		return err
	}
	// A policy takes effect a moment after it is created: wait until it denies.
	err = harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) {
		err := create(cm(target, "tilt-lib-probe", nil))
		if err == nil {
			_ = inj.Client.CoreV1().ConfigMaps(target).Delete(ctx, "tilt-lib-probe", metav1.DeleteOptions{})
		}
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
	if err != nil {
		t.Fatalf("the policy never denied an unlabelled write: %v", err)
	}

	denied := func(what string, err error, fragment string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), fragment) {
			t.Errorf("%s: err = %v, want a denial saying %q", what, err, fragment)
		}
	}
	denied("unlabelled ConfigMap", create(cm(target, "tilt-lib-v2", nil)), "managed-by=tilt-lib-injector")
	denied("write into the source namespace", create(cm(d.src, "tilt-lib-v3", managed)), "never writes the source namespace")
	denied("a ConfigMap not named like ours", create(cm(target, "kube-root-ca2", managed)), "named like ours")
	adopt, err := inj.Client.CoreV1().ConfigMaps(target).Create(ctx, cm(target, "tilt-templates", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	adopt.Labels = managed
	_, err = c.CoreV1().ConfigMaps(target).Update(ctx, adopt, metav1.UpdateOptions{})
	denied("adopting an unmanaged ConfigMap by labelling it", err, "managed-by=tilt-lib-injector")
	if _, err := c.CoreV1().Secrets(target).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the distributor can list Secrets: %v", err)
	}

	// Allowed: a managed copy named like ours, created, updated and deleted.
	ok := cm(target, "tilt-lib-v2", managed)
	if err := create(ok); err != nil {
		t.Fatalf("allowed create denied: %v", err)
	}
	got, err := c.CoreV1().ConfigMaps(target).Get(ctx, ok.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Data["k"] = "w"
	if _, err := c.CoreV1().ConfigMaps(target).Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Errorf("allowed update denied: %v", err)
	}
	if err := c.CoreV1().ConfigMaps(target).Delete(ctx, ok.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("allowed delete denied: %v", err)
	}

	// The real distributor, with the chart's RBAC and under the policy, keeps a copy.
	lib := d.source(t, "tilt-lib-v2", "v2.0.0", map[string]string{"tilt_lib.star": "v2"})
	d.distributor(t, "sa", "--kubeconfig="+saKubeconfig(t, ctx, rel, sa), "--lease-namespace="+rel)
	waitCM(t, target, lib.Name, "copy written as the ServiceAccount", inSyncWith(lib))
	restoreLatency(t, target, lib.Name)
	waitCM(t, target, lib.Name, "copy restored as the ServiceAccount", inSyncWith(lib))
}
