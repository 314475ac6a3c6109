//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// selfCertRules are the grants self mode needs on top of the admission server's own
// (namespaces, configmaps and pods list/watch — never get —, events create/patch): the contract the
// chart's RBAC implements. Secrets: create cannot be restricted by name (the object does not exist
// yet); everything else is restricted to the one Secret, the one webhook configuration and the
// Secret's own namespace (get, the startup check that it exists).
func selfCertRules(namespace, secret, webhookConfig string) (namespaced, cluster []rbacv1.PolicyRule) {
	namespaced = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{secret}, Verbs: []string{"get", "list", "watch", "update"}},
	}
	cluster = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces", "configmaps", "pods"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{namespace}, Verbs: []string{"get"}},
		{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations"}, ResourceNames: []string{webhookConfig}, Verbs: []string{"get", "list", "watch", "patch"}},
	}
	return namespaced, cluster
}

// TestSelfCertLeastPrivilegeRBAC: a replica running as a user with exactly selfCertRules (no
// system:masters) creates its Secret, publishes and heals the caBundle, becomes ready, and
// renews its certificate (an update of the Secret).
func TestSelfCertLeastPrivilegeRBAC(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "selfcert-rbac", 1, admissionv1.Ignore,
		"--ca-lifetime="+rotCALifetime, "--cert-lifetime="+rotCertLifetime)
	user := "e2e-" + s.ns
	namespaced, cluster := selfCertRules(s.ns, selfCertSecret, s.cfgName)
	rbac := inj.Client.RbacV1()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: user, APIGroup: rbacv1.GroupName}}
	if _, err := rbac.Roles(s.ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: namespaced}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(s.ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: cluster}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rbac.ClusterRoleBindings().Delete(context.Background(), user, metav1.DeleteOptions{})
		_ = rbac.ClusterRoles().Delete(context.Background(), user, metav1.DeleteOptions{})
	})
	kubeconfig := filepath.Join(inj.WorkDir, user+".kubeconfig")
	if err := inj.UserKubeconfig(kubeconfig, user); err != nil {
		t.Fatal(err)
	}
	w := s.replicas[0]
	for i, a := range w.Args {
		if strings.HasPrefix(a, "--kubeconfig=") {
			w.Args[i] = "--kubeconfig=" + kubeconfig
		}
	}
	s.launchAll(t)
	first, err := s.trustedLeaf(ctx, w.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// Heal through the restricted patch grant.
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	cfg, err := api.Get(ctx, s.cfgName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Webhooks[0].ClientConfig.CABundle = nil
	if _, err := api.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = harness.Poll(ctx, healDeadline, func(ctx context.Context) (bool, error) {
		_, err := s.trustedLeaf(ctx, w.Addr)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("caBundle not healed with least-privilege RBAC (log %s): %v", w.LogPath, err)
	}
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		leaf, err := s.trustedLeaf(ctx, w.Addr)
		return err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0, nil
	})
	if err != nil {
		t.Fatalf("certificate not renewed with least-privilege RBAC (log %s): %v", w.LogPath, err)
	}
}
