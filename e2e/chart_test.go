//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The chart's release in this suite: its own namespace, names and workspace label, so that it never
// sees the suite's other Pods (and the suite's webhook never sees its Pods).
const (
	chartRelease = "chart-e2e"
	chartNS      = "chart-e2e"
	chartName    = chartRelease + "-tilt-lib-injector" // the chart's fullname
	chartLabel   = "e2e.tilt-lib/chart"
)

// helmCmd runs helm as the suite's admin, with a private helm home.
func helmCmd(t *testing.T, args ...string) string {
	t.Helper()
	home := filepath.Join(inj.WorkDir, "helm-home")
	cmd := exec.Command(filepath.Join(inj.AssetsDir, "helm"), append(args, "--kubeconfig", inj.Kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the chart's ServiceAccount with
// a token from the TokenRequest API: what the Pod's projected token would be.
func serviceAccountKubeconfig(t *testing.T, ctx context.Context) string {
	t.Helper()
	return saKubeconfig(t, ctx, chartNS, chartName)
}

// saToken is a token of ServiceAccount ns/name from the TokenRequest API, valid for an hour.
func saToken(t *testing.T, ctx context.Context, ns, name string) string {
	t.Helper()
	tr, err := inj.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for ServiceAccount %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// saKubeconfig writes a kubeconfig that authenticates as ServiceAccount ns/name (saToken).
func saKubeconfig(t *testing.T, ctx context.Context, ns, name string) string {
	t.Helper()
	admin, err := clientcmd.LoadFromFile(inj.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = cluster
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: saToken(t, ctx, ns, name)}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "sa"}
	cfg.CurrentContext = "sa"
	path := filepath.Join(inj.WorkDir, ns+"-"+name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func ptrTo[T any](v T) *T { return &v }

// hasAgentToken reports whether any container of pods carries Coder's agent token in its env.
func hasAgentToken(pods []corev1.Pod) bool {
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, e := range c.Env {
				if e.Name == "CODER_AGENT_TOKEN" && e.Value != "" {
					return true
				}
			}
		}
	}
	return false
}

// chartReplica runs the binary with the args of the installed Deployment (what the Pod would run),
// only moved onto this machine: the ServiceAccount's kubeconfig, the Service's ClusterIP, free
// metrics and probe ports.
func chartReplica(t *testing.T, ctx context.Context, kubeconfig string) (*harness.Webhook, net.IP) {
	t.Helper()
	return releaseReplica(t, ctx, kubeconfig, chartNS, chartName)
}

// releaseReplica is chartReplica for the release whose Deployment and Service are ns/name.
func releaseReplica(t *testing.T, ctx context.Context, kubeconfig, ns, name string) (*harness.Webhook, net.IP) {
	t.Helper()
	d, err := inj.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := inj.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(svc.Spec.ClusterIP)
	metrics, probe, err := harness.SideAddrs()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string(nil), d.Spec.Template.Spec.Containers[0].Args...)
	args = append(args, "--kubeconfig="+kubeconfig, "--bind-address="+ip.String(),
		"--metrics-bind-address="+metrics, "--health-probe-bind-address="+probe)
	w := &harness.Webhook{
		Binary: inj.Webhook.Binary, Args: args, ProbeAddr: probe, MetricsAddr: metrics,
		Addr: net.JoinHostPort(ip.String(), strconv.Itoa(int(svc.Spec.Ports[0].Port))), LogPath: filepath.Join(inj.WorkDir, "webhook-"+name+".log"),
	}
	return w, ip
}

// chartInjects creates a workspace Pod selected by the chart's workspaceSelector and reports whether
// the chart's webhook mutated it (the webhook's injected record is there).
func chartInjects(ctx context.Context, name string) (bool, error) {
	pod := harness.WorkspacePod(name, nil)
	pod.Labels = map[string]string{chartLabel: "yes"}
	created, err := inj.Client.CoreV1().Pods("chart-e2e-ws").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	_, ok, err := harness.InjectedRecord(created)
	return ok, err
}

// TestHelmChart: `helm install` into the real API server, the binary run as the chart's
// ServiceAccount with exactly the chart's RBAC injects, cannot read Secrets outside its namespace,
// heals the caBundle a `helm upgrade` resets, and `helm uninstall` leaves no webhook configuration.
func TestHelmChart(t *testing.T) {
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(root, "charts", "tilt-lib-injector")
	// The API server dials ClusterIP:servicePort itself (no kube-proxy): both ports must be the one
	// the binary listens on.
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	values := []string{
		"--set", "webhook.port=" + strconv.Itoa(port), "--set", "webhook.servicePort=" + strconv.Itoa(port),
		"--set", "workspaceSelector.matchLabels.app\\.kubernetes\\.io/name=null",
		"--set", "workspaceSelector.matchLabels." + strings.ReplaceAll(chartLabel, ".", "\\.") + "=yes",
	}
	helmCmd(t, append([]string{"install", chartRelease, chart, "-n", chartNS, "--create-namespace"}, values...)...)
	uninstalled := false
	t.Cleanup(func() {
		if !uninstalled {
			_ = exec.Command(filepath.Join(inj.AssetsDir, "helm"), "uninstall", chartRelease, "-n", chartNS, "--kubeconfig", inj.Kubeconfig).Run()
		}
	})
	if _, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "chart-e2e-ws"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	kubeconfig := serviceAccountKubeconfig(t, ctx)
	w, _ := chartReplica(t, ctx, kubeconfig)
	if err := w.Start(ctx, 60*time.Second); err != nil {
		t.Fatalf("the chart's args with the chart's RBAC: %v", err)
	}
	t.Cleanup(func() { _ = w.Stop(30 * time.Second) })

	n := 0
	injects := func(ctx context.Context) (bool, error) {
		n++
		ok, err := chartInjects(ctx, fmt.Sprintf("ws-%d", n))
		return ok, err
	}
	if err := harness.Poll(ctx, 30*time.Second, injects); err != nil {
		t.Fatalf("a workspace Pod was not injected through the chart's registration (log %s): %v", w.LogPath, err)
	}

	// Least privilege, seen from the ServiceAccount: no Secret outside its namespace, nor another one in it.
	saCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	sa := kubernetes.NewForConfigOrDie(saCfg)
	if _, err := sa.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing Secrets in default as the chart's ServiceAccount: %v, want Forbidden", err)
	}
	if _, err := sa.CoreV1().Secrets(chartNS).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing every Secret of its own namespace: %v, want Forbidden (only its certificate Secret, by name)", err)
	}
	if _, err := sa.CoreV1().Secrets(chartNS).Get(ctx, chartName+"-certs", metav1.GetOptions{}); err != nil {
		t.Errorf("reading its certificate Secret: %v", err)
	}
	// Pods: read (the adoption gauges' metadata informer), never written.
	if _, err := sa.CoreV1().Pods("chart-e2e-ws").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing Pods (the adoption gauges watch workspace Pods): %v", err)
	}
	if err := sa.CoreV1().Pods("chart-e2e-ws").Delete(ctx, "any", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("deleting a Pod: %v, want Forbidden (the injector only reads Pods)", err)
	}
	// Reads are list and watch (the informers), never get: not a Pod, a ConfigMap or another
	// Namespace; its own Namespace only, by name (self mode's startup check). The binary ran and
	// injected above with exactly these grants.
	if _, err := sa.CoreV1().Pods("chart-e2e-ws").Get(ctx, "ws-1", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("getting a Pod: %v, want Forbidden (list and watch only)", err)
	}
	if _, err := sa.CoreV1().ConfigMaps("chart-e2e-ws").Get(ctx, "tilt-lib", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("getting a ConfigMap: %v, want Forbidden (list and watch only)", err)
	}
	if _, err := sa.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("getting another Namespace: %v, want Forbidden", err)
	}
	if _, err := sa.CoreV1().Namespaces().Get(ctx, chartNS, metav1.GetOptions{}); err != nil {
		t.Errorf("getting its own Namespace (the self-mode startup check): %v", err)
	}
	// What list still gives away, whatever the client asks for: whole Pods, env included. The
	// injector's token reads every workspace's CODER_AGENT_TOKEN (docs/design.md, Threat model).
	pods, err := sa.CoreV1().Pods("chart-e2e-ws").List(ctx, metav1.ListOptions{})
	if err != nil || !hasAgentToken(pods.Items) {
		t.Errorf("listing Pods as the injector: %v; CODER_AGENT_TOKEN readable: %v (the documented exposure changed: update the threat model)", err, err == nil && hasAgentToken(pods.Items))
	}

	// helm upgrade --force replaces the registration with the chart's, which has no caBundle (a plain
	// three-way-merge upgrade leaves the live caBundle alone; Argo CD's replace does not). With the
	// replica stopped the reset is visible; started again, it heals it.
	if err := w.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	helmCmd(t, append([]string{"upgrade", chartRelease, chart, "-n", chartNS, "--force"}, values...)...)
	if ca, err := inj.CABundle(ctx, chartName); err != nil || len(ca) != 0 {
		t.Fatalf("after helm upgrade --force the caBundle is %d bytes (%v): want it reset", len(ca), err)
	}
	if err := w.Start(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	err = harness.Poll(ctx, healDeadline, func(ctx context.Context) (bool, error) {
		ca, err := inj.CABundle(ctx, chartName)
		if err != nil || len(ca) == 0 {
			return false, nil
		}
		return injects(ctx)
	})
	if err != nil {
		t.Fatalf("caBundle not healed after helm upgrade (log %s): %v", w.LogPath, err)
	}

	helmCmd(t, "uninstall", chartRelease, "-n", chartNS)
	uninstalled = true
	if _, err := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, chartName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall the webhook configuration: %v, want NotFound", err)
	}
	if _, err := inj.Client.RbacV1().ClusterRoles().Get(ctx, chartName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall the ClusterRole: %v, want NotFound", err)
	}
}

// TestKustomizeManifestsDryRun: the checked-in kustomize base passes server-side validation
// (`kubectl apply -k manifests/ --dry-run=server`).
func TestKustomizeManifestsDryRun(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A server-side dry run does not create the Namespace; the namespaced objects need it to exist.
	ctx := context.Background()
	if _, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tilt-system"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(inj.KubectlPath(), "--kubeconfig", inj.Kubeconfig, "apply", "-k", filepath.Join(root, "manifests"), "--dry-run=server")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl apply -k manifests --dry-run=server: %v\n%s%s", err, out, stderr.String())
	}
	for _, want := range []string{"deployment.apps/tilt-lib-injector", "mutatingwebhookconfiguration.admissionregistration.k8s.io/tilt-lib-injector", "clusterrole.rbac.authorization.k8s.io/tilt-lib-injector"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dry run did not handle %s:\n%s", want, out)
		}
	}
}
