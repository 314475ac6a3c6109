package harness

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
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeChart is charts/tilt-lib-injector installed with helm on a node: the injector as a cluster
// runs it, its Pods started by kubelet from the image built for the node (WebhookImage*), its
// registration the chart's, the API server calling it through the chart's Service.
type NodeChart struct {
	Release, Namespace string
	// FullName names the Deployment, Service, ServiceAccount and webhook configuration.
	FullName string
	cp       *ControlPlane
	helmHome string
	base     []string // helm arguments every install and upgrade passes
}

// NodeChartAPIServerFlags make the API server call a webhook Service as a cluster without
// kube-proxy must: --enable-aggregator-routing=true makes kube-apiserver resolve a Service
// reference to one of its endpoints (EndpointSliceIndexerGetter → proxy.ResolveEndpoint, k8s.io/apiserver
// pkg/util/proxy: a random endpoint of the Service's EndpointSlices with the port's name, skipping
// endpoints whose Ready condition is false) instead of its ClusterIP. The controller-manager's
// EndpointSlice controller keeps those slices from Pod readiness, so the API server dials
// <ready Pod IP>:<targetPort> over the Pod bridge: the chart's own readiness probe decides who is
// called, and a terminating Pod (Ready false from its deletion on) is called no more.
var NodeChartAPIServerFlags = map[string]string{"enable-aggregator-routing": "true"}

// NodeChartValues are the helm arguments that run the chart on the e2e node: the node's webhook
// image (no registry: imagePullPolicy Never), and KUBERNETES_SERVICE_HOST/PORT naming the API
// server's address on the Pod bridge (extraEnv): there is no kube-proxy, and the `kubernetes`
// Service's ClusterIP is a loopback address, which inside a Pod is the Pod itself. Everything else
// is the chart's default (self-managed certificates, two replicas, the PodDisruptionBudget).
func NodeChartValues(apiServer *net.TCPAddr) []string {
	return []string{
		"--set", "image.repository=" + WebhookImageRepository,
		"--set", "image.tag=" + WebhookImageTag,
		"--set", "image.pullPolicy=Never",
		"--set-json", fmt.Sprintf(`extraEnv=[{"name":"KUBERNETES_SERVICE_HOST","value":%q},{"name":"KUBERNETES_SERVICE_PORT","value":%q}]`,
			apiServer.IP.String(), strconv.Itoa(apiServer.Port)),
	}
}

// InstallChart runs `helm install release charts/tilt-lib-injector -n namespace
// --create-namespace` with values (NodeChartValues and more), then waits until the Deployment
// has rolled out (every replica Ready through the chart's readiness probe). helm keeps its home
// in workDir.
func InstallChart(ctx context.Context, cp *ControlPlane, workDir, release, namespace string, values []string, timeout time.Duration) (*NodeChart, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	c := &NodeChart{Release: release, Namespace: namespace, FullName: release, cp: cp, helmHome: filepath.Join(workDir, "helm-home"),
		base: append([]string{filepath.Join(root, "charts", "tilt-lib-injector"), "-n", namespace}, values...)}
	if !strings.Contains(release, "tilt-lib-injector") {
		c.FullName = release + "-tilt-lib-injector" // the chart's tli.fullname
	}
	if _, err := c.helm(ctx, append(append([]string{"install", release}, c.base...), "--create-namespace")...); err != nil {
		return nil, err
	}
	return c, c.WaitRolledOut(ctx, timeout)
}

// Upgrade runs `helm upgrade` with the install's values and more (later ones win). It does not
// wait: WaitRolledOut does.
func (c *NodeChart) Upgrade(ctx context.Context, values ...string) error {
	_, err := c.helm(ctx, append(append([]string{"upgrade", c.Release}, c.base...), values...)...)
	return err
}

// Uninstall runs `helm uninstall`.
func (c *NodeChart) Uninstall(ctx context.Context) error {
	_, err := c.helm(ctx, "uninstall", c.Release, "-n", c.Namespace, "--wait")
	return err
}

func (c *NodeChart) helm(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.cp.AssetsDir, "helm"), append(args, "--kubeconfig", c.cp.Kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+c.helmHome, "HELM_CACHE_HOME="+c.helmHome, "HELM_DATA_HOME="+c.helmHome)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w\n%s", args[0], err, out.String())
	}
	return out.String(), nil
}

// Deployment is the chart's Deployment as stored now.
func (c *NodeChart) Deployment(ctx context.Context) (*appsv1.Deployment, error) {
	return c.cp.Client.AppsV1().Deployments(c.Namespace).Get(ctx, c.FullName, metav1.GetOptions{})
}

// Scale sets the Deployment's replicas (as `kubectl scale` does; the next helm upgrade sets the
// chart's replicaCount again). It does not wait.
func (c *NodeChart) Scale(ctx context.Context, replicas int32) error {
	api := c.cp.Client.AppsV1().Deployments(c.Namespace)
	sc, err := api.GetScale(ctx, c.FullName, metav1.GetOptions{})
	if err == nil {
		sc.Spec.Replicas = replicas
		_, err = api.UpdateScale(ctx, c.FullName, sc, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("scaling %s/%s to %d: %w", c.Namespace, c.FullName, replicas, err)
	}
	return nil
}

// Pods are the chart's Pods (terminating ones too).
func (c *NodeChart) Pods(ctx context.Context) ([]corev1.Pod, error) {
	list, err := c.cp.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=tilt-lib-injector,app.kubernetes.io/instance=" + c.Release})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// WaitRolledOut waits until the Deployment's latest generation is observed and complete: every
// replica updated, Ready and available, and no Pod of an older ReplicaSet left (terminating ones
// included).
func (c *NodeChart) WaitRolledOut(ctx context.Context, timeout time.Duration) error {
	var last string
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		d, err := c.Deployment(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		want := *d.Spec.Replicas
		s := d.Status
		last = fmt.Sprintf("generation %d observed %d, replicas %d updated %d ready %d available %d", d.Generation,
			s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
		if s.ObservedGeneration < d.Generation || s.Replicas != want || s.UpdatedReplicas != want || s.ReadyReplicas != want || s.AvailableReplicas != want {
			return false, nil
		}
		pods, err := c.Pods(ctx)
		if err != nil {
			return false, err
		}
		last += fmt.Sprintf(", %d Pods", len(pods))
		return int32(len(pods)) == want, nil
	})
	if err != nil {
		return fmt.Errorf("Deployment %s/%s not rolled out (%s; %s): %w", c.Namespace, c.FullName, last, c.podSummary(ctx), err)
	}
	return nil
}

// podSummary names each chart Pod's phase, readiness and last container state, for errors.
func (c *NodeChart) podSummary(ctx context.Context) string {
	pods, err := c.Pods(ctx)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, p := range pods {
		out = append(out, PodSummary(&p))
	}
	return "Pods: " + strings.Join(out, "; ")
}

// ReadyPods are the chart's Pods that are Ready and not terminating.
func (c *NodeChart) ReadyPods(ctx context.Context) ([]corev1.Pod, error) {
	pods, err := c.Pods(ctx)
	if err != nil {
		return nil, err
	}
	var ready []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && PodReady(&p) {
			ready = append(ready, p)
		}
	}
	return ready, nil
}

// Scrape reads the metrics of one Ready chart Pod (on its Pod IP, over the bridge): the
// adoption gauges are every replica's view of the same informer, so any one will do.
func (c *NodeChart) Scrape(ctx context.Context) (Snapshot, error) {
	pods, err := c.ReadyPods(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	if len(pods) == 0 {
		return Snapshot{}, fmt.Errorf("no Ready Pod of %s (%s)", c.FullName, c.podSummary(ctx))
	}
	return c.ScrapePod(ctx, &pods[0])
}

// ScrapePod reads the metrics of one chart Pod (the chart's default metrics.port, plain HTTP).
func (c *NodeChart) ScrapePod(ctx context.Context, p *corev1.Pod) (Snapshot, error) {
	return Scrape(ctx, net.JoinHostPort(p.Status.PodIP, "8080"))
}

// PodReady reports whether p's Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
