package charttest

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/config"
)

const (
	deployKey = "Deployment/" + releaseName
	webhookKy = "MutatingWebhookConfiguration/" + releaseName
)

func container(t *testing.T, r rendered) corev1.Container {
	t.Helper()
	d := get[appsv1.Deployment](t, r, deployKey)
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// serveConfig parses the container's args with the binary's own flag set, on top of its defaults.
func serveConfig(t *testing.T, c corev1.Container) (config.Config, *pflag.FlagSet) {
	t.Helper()
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %q: want `serve` first", c.Args)
	}
	cfg := config.Default()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse(c.Args[1:]); err != nil {
		t.Fatalf("the binary refuses the chart's args: %v", err)
	}
	return cfg, fs
}

// TestArgsAreEveryServeOption: the chart passes every flag of `webhook serve` (the one-to-one
// mapping of values to Config), except those that make no sense in a Pod, and the binary accepts them.
func TestArgsAreEveryServeOption(t *testing.T) {
	// In-cluster config and flags instead of a file; files mode has no self-mode flags, self mode no --cert-dir.
	notPassed := map[string][]string{
		"self":  {"kubeconfig", "config", "cert-dir", "client-ca"},
		"files": {"kubeconfig", "config", "cert-secret-name", "webhook-config-name", "service-name", "service-namespace", "ca-lifetime", "cert-lifetime", "client-ca"},
	}
	for _, c := range goldenCases(t) {
		t.Run(c, func(t *testing.T) {
			r := renderCase(t, c)
			cfg, fs := serveConfig(t, container(t, r))
			cfg.ServiceNamespace = releaseNS // the binary falls back to $POD_NAMESPACE; the chart passes it anyway
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the binary would refuse the chart's configuration: %v", err)
			}
			skip := notPassed[cfg.CertMode]
			if cfg.ClientCA != "" {
				skip = slices.DeleteFunc(slices.Clone(skip), func(s string) bool { return s == "client-ca" })
			}
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Name == "alias" && len(cfg.Aliases) == 0 {
					return // a map flag: nothing to pass when empty
				}
				if f.Changed == slices.Contains(skip, f.Name) {
					t.Errorf("--%s passed: %v, want %v", f.Name, f.Changed, !f.Changed)
				}
			})
		})
	}
}

// TestDefaultsMatchTheBinary: with default values the chart runs the binary with its own defaults,
// so values.yaml cannot drift from pkg/config (only the names the release decides differ).
func TestDefaultsMatchTheBinary(t *testing.T) {
	got, _ := serveConfig(t, container(t, renderCase(t, "default")))
	want := config.Default()
	want.ServiceNamespace = releaseNS
	want.CertSecretName = releaseName + "-certs"
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("chart defaults differ from the binary's:\n got %+v\nwant %+v", got, want)
	}
}

// TestObjectSelectorIsWorkspaceSelector: the API server's objectSelector and --workspace-selector
// come from one value and select the same Pods, in every case.
func TestObjectSelectorIsWorkspaceSelector(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c, func(t *testing.T) {
			r := renderCase(t, c)
			cfg, _ := serveConfig(t, container(t, r))
			mwc := get[admissionv1.MutatingWebhookConfiguration](t, r, webhookKy)
			obj, err := metav1.LabelSelectorAsSelector(mwc.Webhooks[0].ObjectSelector)
			if err != nil {
				t.Fatal(err)
			}
			arg, err := labels.Parse(cfg.WorkspaceSelector)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Empty() || obj.String() != arg.String() {
				t.Errorf("objectSelector %q != --workspace-selector %q", obj, arg)
			}
		})
	}
}

// TestWebhookConfiguration pins the admission contract of docs/design.md (Deployment: the
// MutatingWebhookConfiguration).
func TestWebhookConfiguration(t *testing.T) {
	r := renderCase(t, "selectors")
	mwc := get[admissionv1.MutatingWebhookConfiguration](t, r, webhookKy)
	if len(mwc.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(mwc.Webhooks))
	}
	w := mwc.Webhooks[0]
	if *w.FailurePolicy != admissionv1.Ignore || *w.SideEffects != admissionv1.SideEffectClassNoneOnDryRun ||
		*w.MatchPolicy != admissionv1.Equivalent || *w.ReinvocationPolicy != admissionv1.IfNeededReinvocationPolicy ||
		*w.TimeoutSeconds != 5 || !slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) {
		t.Errorf("webhook policy fields: %+v", w)
	}
	wantRules := []admissionv1.RuleWithOperations{{
		Operations: []admissionv1.OperationType{admissionv1.Create},
		Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}, Scope: ptr(admissionv1.NamespacedScope)},
	}}
	if !equality.Semantic.DeepEqual(w.Rules, wantRules) {
		t.Errorf("rules %+v, want pods CREATE only", w.Rules)
	}
	ns, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
	if err != nil {
		t.Fatal(err)
	}
	for name, sent := range map[string]bool{
		"kube-system": false, "kube-public": false, "kube-node-lease": false, releaseNS: false,
		"ci": false, "sandbox": false, "team-a": true, "default": true,
	} {
		if got := ns.Matches(labels.Set{"kubernetes.io/metadata.name": name}); got != sent {
			t.Errorf("namespace %s sent to the webhook: %v, want %v", name, got, sent)
		}
	}
	svc := w.ClientConfig.Service
	if svc == nil || svc.Name != releaseName || svc.Namespace != releaseNS || *svc.Path != "/mutate-v1-pod" || *svc.Port != 443 {
		t.Errorf("clientConfig.service %+v", svc)
	}
	if len(w.ClientConfig.CABundle) != 0 {
		t.Error("self mode: the chart must leave the caBundle to the binary")
	}
}

func ptr[T any](v T) *T { return &v }

// The least-privilege grants, re-declared here as the oracle (the same set e2e/selfcert_rbac_test.go
// runs the binary with): any rule added to the chart fails this test.
var (
	wantCluster = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces", "configmaps", "pods"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
	wantClusterSelf = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{releaseNS}, Verbs: []string{"get"}},
		{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations"}, ResourceNames: []string{releaseName}, Verbs: []string{"get", "list", "watch", "patch"}},
	}
	// wantClusterSecureMetrics: what metrics.secure adds (pkg/metricsauth's two reviews).
	wantClusterSecureMetrics = []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}
	wantRoleSelf = []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{releaseName + "-certs"}, Verbs: []string{"get", "list", "watch", "update"}},
	}
)

// TestRBACLeastPrivilege: exactly the grants the binary needs, bound to its ServiceAccount; the
// certificate grants only in self mode.
func TestRBACLeastPrivilege(t *testing.T) {
	for _, c := range []struct {
		name string
		self bool
	}{{"default", true}, {"certmanager", false}, {"existingsecret", false}} {
		t.Run(c.name, func(t *testing.T) {
			r := renderCase(t, c.name)
			want := slices.Clone(wantCluster)
			if c.self {
				want = append(want, wantClusterSelf...)
			}
			cr := get[rbacv1.ClusterRole](t, r, "ClusterRole/"+releaseName)
			if !equality.Semantic.DeepEqual(cr.Rules, want) {
				t.Errorf("ClusterRole rules\n got %+v\nwant %+v", cr.Rules, want)
			}
			_, hasRole := r["Role/"+releaseName]
			if hasRole != c.self {
				t.Fatalf("Role rendered: %v, want %v", hasRole, c.self)
			}
			if c.self {
				role := get[rbacv1.Role](t, r, "Role/"+releaseName)
				if role.Namespace != releaseNS || !equality.Semantic.DeepEqual(role.Rules, wantRoleSelf) {
					t.Errorf("Role %s rules\n got %+v\nwant %+v", role.Namespace, role.Rules, wantRoleSelf)
				}
				rb := get[rbacv1.RoleBinding](t, r, "RoleBinding/"+releaseName)
				checkBinding(t, rb.RoleRef, rb.Subjects, "Role")
			}
			crb := get[rbacv1.ClusterRoleBinding](t, r, "ClusterRoleBinding/"+releaseName)
			checkBinding(t, crb.RoleRef, crb.Subjects, "ClusterRole")
			for k := range r {
				if strings.HasPrefix(k, "Role") || strings.HasPrefix(k, "ClusterRole") {
					if !slices.Contains([]string{"Role/", "RoleBinding/", "ClusterRole/", "ClusterRoleBinding/"}, strings.TrimSuffix(k, releaseName)) {
						t.Errorf("unexpected RBAC object %s", k)
					}
				}
			}
			d := get[appsv1.Deployment](t, r, deployKey)
			if d.Spec.Template.Spec.ServiceAccountName != releaseName {
				t.Errorf("Pod runs as %q", d.Spec.Template.Spec.ServiceAccountName)
			}
		})
	}
}

func checkBinding(t *testing.T, ref rbacv1.RoleRef, subjects []rbacv1.Subject, kind string) {
	t.Helper()
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: releaseName, Namespace: releaseNS}}
	if ref.Kind != kind || ref.Name != releaseName || !equality.Semantic.DeepEqual(subjects, want) {
		t.Errorf("%s binding: ref %+v subjects %+v", kind, ref, subjects)
	}
}

// TestPodHardening: restricted Pod Security, the token only where needed, HA and graceful shutdown.
func TestPodHardening(t *testing.T) {
	r := renderCase(t, "default")
	d := get[appsv1.Deployment](t, r, deployKey)
	ps := d.Spec.Template.Spec
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
	}
	if psc := ps.SecurityContext; psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser == 0 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", psc)
	}
	c := ps.Containers[0]
	sc := c.SecurityContext
	if sc == nil || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || !*sc.RunAsNonRoot ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container securityContext %+v", sc)
	}
	sa := get[corev1.ServiceAccount](t, r, "ServiceAccount/"+releaseName)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken || ps.AutomountServiceAccountToken == nil || !*ps.AutomountServiceAccountToken {
		t.Error("the token must be mounted by the injector's Pod only (ServiceAccount false, Pod true)")
	}
	pdb := get[policyv1.PodDisruptionBudget](t, r, "PodDisruptionBudget/"+releaseName)
	if pdb.Spec.MinAvailable.IntValue() != 1 || !equality.Semantic.DeepEqual(pdb.Spec.Selector, d.Spec.Selector) {
		t.Errorf("PDB %+v", pdb.Spec)
	}
	if len(ps.TopologySpreadConstraints) != 1 || ps.TopologySpreadConstraints[0].TopologyKey != "kubernetes.io/hostname" ||
		!equality.Semantic.DeepEqual(ps.TopologySpreadConstraints[0].LabelSelector, d.Spec.Selector) {
		t.Errorf("topology spread %+v", ps.TopologySpreadConstraints)
	}
	if ps.PriorityClassName != "" {
		t.Errorf("priorityClassName %q by default", ps.PriorityClassName)
	}
	// The server shuts down within 30 s after SIGTERM; the kubelet must wait for that plus the preStop pause.
	pre := int64(0)
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		pre = c.Lifecycle.PreStop.Sleep.Seconds
	}
	if pre == 0 || *ps.TerminationGracePeriodSeconds < pre+30 {
		t.Errorf("preStop sleep %ds, grace %ds: want a pause and grace >= pause + 30s", pre, *ps.TerminationGracePeriodSeconds)
	}
}

// TestProbesOnHealthPort: /healthz and /readyz on the port the binary serves them on.
func TestProbesOnHealthPort(t *testing.T) {
	c := container(t, renderCase(t, "default"))
	cfg, _ := serveConfig(t, c)
	port := func(name string) int32 {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
		t.Fatalf("no container port %s", name)
		return 0
	}
	if want := ":" + strconv.Itoa(int(port("health"))); cfg.HealthProbeBindAddress != want {
		t.Errorf("--health-probe-bind-address %q, health port %s", cfg.HealthProbeBindAddress, want)
	}
	if int(port("webhook")) != cfg.Port {
		t.Errorf("webhook port %d, --port %d", port("webhook"), cfg.Port)
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "health" {
			t.Errorf("probe for %s: %+v", path, probe)
		}
	}
}

// TestGoMemLimit: 90% of the memory limit, in bytes, whatever unit the limit is written in.
func TestGoMemLimit(t *testing.T) {
	for c, limit := range map[string]string{"default": "256Mi", "monitoring": "1Gi"} {
		cont := container(t, renderCase(t, c))
		if got := cont.Resources.Limits.Memory(); got.Cmp(resource.MustParse(limit)) != 0 {
			t.Fatalf("%s: memory limit %s, want %s", c, got, limit)
		}
		q := resource.MustParse(limit)
		want := q.Value() * 9 / 10
		var got string
		for _, e := range cont.Env {
			if e.Name == "GOMEMLIMIT" {
				got = e.Value
			}
		}
		if got != strconv.FormatInt(want, 10) {
			t.Errorf("%s: GOMEMLIMIT %q, want %d (90%% of %s)", c, got, want, limit)
		}
	}
}

// TestCertModes: certManager and existingSecret mount a Secret and run files mode; the caBundle comes
// from cainjector or from the value.
func TestCertModes(t *testing.T) {
	for _, c := range []struct{ name, secret string }{{"certmanager", releaseName + "-certs"}, {"existingsecret", "my-webhook-tls"}} {
		t.Run(c.name, func(t *testing.T) {
			r := renderCase(t, c.name)
			cont := container(t, r)
			cfg, _ := serveConfig(t, cont)
			if cfg.CertMode != config.CertModeFiles {
				t.Fatalf("--cert-mode %q", cfg.CertMode)
			}
			d := get[appsv1.Deployment](t, r, deployKey)
			var mounted bool
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Secret != nil && v.Secret.SecretName == c.secret {
					for _, m := range cont.VolumeMounts {
						mounted = mounted || m.Name == v.Name && m.MountPath == cfg.CertDir && m.ReadOnly
					}
				}
			}
			if !mounted {
				t.Errorf("Secret %s not mounted read-only at --cert-dir %s", c.secret, cfg.CertDir)
			}
			mwc := get[admissionv1.MutatingWebhookConfiguration](t, r, webhookKy)
			switch c.name {
			case "certmanager":
				if got := mwc.Annotations["cert-manager.io/inject-ca-from"]; got != releaseNS+"/"+releaseName {
					t.Errorf("inject-ca-from %q", got)
				}
				cert := r["Certificate/"+releaseName]
				if cert == nil || cert.Object["spec"].(map[string]any)["secretName"] != c.secret {
					t.Errorf("Certificate %v", cert)
				}
			case "existingsecret":
				if string(mwc.Webhooks[0].ClientConfig.CABundle) != "-----BEGIN CERTIFICATE-----\n" {
					t.Errorf("caBundle %q", mwc.Webhooks[0].ClientConfig.CABundle)
				}
			}
		})
	}
}

// TestNetworkPolicy: off by default; on, the webhook port admits exactly the configured peers, the
// metrics port its own, and the health port nobody but the Pod's node (which a NetworkPolicy always
// admits: the kubelet's probes) unless healthFrom says so.
func TestNetworkPolicy(t *testing.T) {
	if _, ok := renderCase(t, "default")["NetworkPolicy/"+releaseName]; ok {
		t.Error("NetworkPolicy rendered by default")
	}
	r := renderCase(t, "networkpolicy")
	np := get[networkingv1.NetworkPolicy](t, r, "NetworkPolicy/"+releaseName)
	d := get[appsv1.Deployment](t, r, deployKey)
	if !equality.Semantic.DeepEqual(np.Spec.PodSelector, *d.Spec.Selector) {
		t.Errorf("podSelector %+v", np.Spec.PodSelector)
	}
	peers := map[string][]networkingv1.NetworkPolicyPeer{}
	for _, in := range np.Spec.Ingress {
		for _, p := range in.Ports {
			peers[p.Port.String()] = in.From
		}
	}
	if w := peers["webhook"]; len(w) != 1 || w[0].IPBlock == nil || w[0].IPBlock.CIDR != "10.0.0.0/24" {
		t.Errorf("webhook port peers %+v, want only 10.0.0.0/24", w)
	}
	if m := peers["metrics"]; len(m) != 1 || m[0].NamespaceSelector == nil {
		t.Errorf("metrics port peers %+v", m)
	}
	if len(peers) != 2 {
		t.Errorf("ports %v: want webhook and metrics only (health: the node alone)", peers)
	}
	out, err := template(t, "-f", filepath.Join("testdata", "networkpolicy.values.yaml"),
		"--set-json", `networkPolicy.healthFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	np = get[networkingv1.NetworkPolicy](t, parse(t, out), "NetworkPolicy/"+releaseName)
	var health []networkingv1.NetworkPolicyPeer
	for _, in := range np.Spec.Ingress {
		if len(in.Ports) == 1 && in.Ports[0].Port.String() == "health" {
			health = in.From
		}
	}
	if len(health) != 1 || health[0].NamespaceSelector == nil {
		t.Errorf("with healthFrom, health port peers %+v", health)
	}
}

// TestArgsSurviveYAML: strings reach the binary unchanged, even those YAML would read as a mapping
// if the chart wrote them unquoted (an IPv6 bind address ends with a colon). Values the binary
// refuses (a version "v2 #x") are refused at render now: TestChartRefusesWhatTheBinaryRefuses.
func TestArgsSurviveYAML(t *testing.T) {
	out, err := template(t, "--set", "webhook.bindAddress=::", "--set-json", `configMapSelector="!a, b in (c,d)"`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := serveConfig(t, container(t, parse(t, out)))
	if cfg.BindAddress != "::" || cfg.ConfigMapSelector != "!a, b in (c,d)" {
		t.Errorf("the binary would get bind-address %q, configmap-selector %q", cfg.BindAddress, cfg.ConfigMapSelector)
	}
}
