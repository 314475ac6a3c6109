//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The GitOps controller examples/marker-policy lets publish, and its namespace.
const (
	gitOpsNS = "argocd"
	gitOpsSA = "argocd-application-controller"
)

// TestPublishedMarkerPolicy: examples/marker-policy on the real API server. --configmap-selector
// trusts a label, and a label is set by whoever may write the ConfigMap; with the policy, a tenant
// allowed to create and update ConfigMaps in its namespace can no longer mark one (nor mark its
// own later, nor edit a marked one), while the GitOps controller publishes as before. Without the
// policy (the control) the tenant's marked ConfigMap is accepted.
func TestPublishedMarkerPolicy(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "marker", nil)
	tenant := userClient(t, ctx, ns, "e2e-tenant-dev")
	gitOps := gitOpsClient(t, ctx, ns)

	marked := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"version": "6.6.6", markerLabel: "true"}}}
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	if _, err := tenant.CoreV1().ConfigMaps(ns).Create(ctx, marked("tilt-lib-control"), dryRun); err != nil {
		t.Fatalf("control, without the policy: the tenant's marked ConfigMap was refused: %v", err)
	}

	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inj.ApplyDir(ctx, filepath.Join(root, "examples", "marker-policy")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeMarkerPolicy(t, ns) })
	// A new policy takes effect once the API server has compiled it: wait for the first refusal.
	var last error
	err = harness.Poll(ctx, followDeadline, func(ctx context.Context) (bool, error) {
		_, last = tenant.CoreV1().ConfigMaps(ns).Create(ctx, marked("tilt-lib-mine"), dryRun)
		return apierrors.IsForbidden(last), nil
	})
	if err != nil {
		t.Fatalf("the policy never refused the tenant's marked ConfigMap: %v (last answer: %v)", err, last)
	}
	refused := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "only the GitOps controller may set the label "+markerLabel) {
			t.Errorf("%s: err = %v, want the policy's refusal", what, err)
		}
	}
	refused("tenant creates a marked ConfigMap", last)

	// Unmarked, the tenant's ConfigMap is its own business (and does not count).
	if _, err := tenant.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "tilt-lib-mine", Labels: map[string]string{"version": "6.6.6"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("tenant creates an unmarked ConfigMap: %v", err)
	}
	mark := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, markerLabel)
	_, err = tenant.CoreV1().ConfigMaps(ns).Patch(ctx, "tilt-lib-mine", types.MergePatchType, []byte(mark), metav1.PatchOptions{})
	refused("tenant marks its ConfigMap afterwards", err)

	// The GitOps controller publishes; the tenant can neither edit that ConfigMap nor keep the
	// marker on a copy, but may drop the marker (its namespace then falls back, its choice).
	if _, err := gitOps.CoreV1().ConfigMaps(ns).Create(ctx, configMap("tilt-lib"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("the GitOps controller publishes tilt-lib: %v", err)
	}
	_, err = tenant.CoreV1().ConfigMaps(ns).Patch(ctx, "tilt-lib", types.MergePatchType, []byte(`{"data":{"tilt_lib.star":"# mine\n"}}`), metav1.PatchOptions{})
	refused("tenant edits the published tilt-lib", err)
	unmark := fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, markerLabel)
	if _, err := tenant.CoreV1().ConfigMaps(ns).Patch(ctx, "tilt-lib", types.MergePatchType, []byte(unmark), metav1.PatchOptions{}); err != nil {
		t.Errorf("tenant drops the marker: %v", err)
	}
}

// removeMarkerPolicy deletes the policy and waits until the admin may mark ConfigMaps again: the
// suite's fixtures mark every ConfigMap they create.
func removeMarkerPolicy(t *testing.T, ns string) {
	ctx := context.Background()
	ar := inj.Client.AdmissionregistrationV1()
	if err := ar.ValidatingAdmissionPolicyBindings().Delete(ctx, "tilt-lib-published-marker", metav1.DeleteOptions{}); err != nil {
		t.Errorf("deleting the binding: %v", err)
	}
	if err := ar.ValidatingAdmissionPolicies().Delete(ctx, "tilt-lib-published-marker", metav1.DeleteOptions{}); err != nil {
		t.Errorf("deleting the policy: %v", err)
	}
	err := harness.Poll(ctx, followDeadline, func(ctx context.Context) (bool, error) {
		_, err := inj.Client.CoreV1().ConfigMaps(ns).Create(ctx, configMap("tilt-lib-v2"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil, nil
	})
	if err != nil {
		t.Errorf("marked ConfigMaps still refused after the policy was deleted: %v", err)
	}
}

// userClient is a client for a new user allowed to create, update and patch ConfigMaps in ns.
func userClient(t *testing.T, ctx context.Context, ns, name string) kubernetes.Interface {
	t.Helper()
	path := filepath.Join(inj.WorkDir, name+".kubeconfig")
	if err := inj.UserKubeconfig(path, name); err != nil {
		t.Fatal(err)
	}
	allowConfigMaps(t, ctx, ns, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name})
	return clientFor(t, path, ns)
}

// gitOpsClient is a client for the GitOps controller's ServiceAccount, allowed the same in ns.
func gitOpsClient(t *testing.T, ctx context.Context, ns string) kubernetes.Interface {
	t.Helper()
	_, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gitOpsNS}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	_, err = inj.Client.CoreV1().ServiceAccounts(gitOpsNS).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: gitOpsSA}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	allowConfigMaps(t, ctx, ns, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: gitOpsSA, Namespace: gitOpsNS})
	return clientFor(t, saKubeconfig(t, ctx, gitOpsNS, gitOpsSA), ns)
}

// allowConfigMaps lets subject create, update and patch ConfigMaps in ns.
func allowConfigMaps(t *testing.T, ctx context.Context, ns string, subject rbacv1.Subject) {
	t.Helper()
	name := "configmaps-" + strings.ToLower(subject.Kind) + "-" + subject.Name
	rbac := inj.Client.RbacV1()
	if _, err := rbac.Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "update", "patch", "get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{subject},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// clientFor is a client for kubeconfig, returned once its grants in ns have reached the API
// server's authorizer (RBAC is served from a cache): an unmarked ConfigMap can be created.
func clientFor(t *testing.T, kubeconfig, ns string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c := kubernetes.NewForConfigOrDie(cfg)
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "rbac-probe"}}
	var last error
	err = harness.Poll(context.Background(), followDeadline, func(ctx context.Context) (bool, error) {
		_, last = c.CoreV1().ConfigMaps(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s never allowed to create ConfigMaps in %s: %v (%v)", kubeconfig, ns, last, err)
	}
	return c
}
