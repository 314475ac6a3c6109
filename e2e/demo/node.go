package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// liveUpdate is the first line the demo gives team-b's library while its workspace runs.
const liveUpdate = "# tilt-lib 2.0.2 -- a live update from make demo"

// runOnNode is the demo on a real node (as root): the same control plane and webhook, plus
// containerd, kubelet, the controller-manager and the scheduler (harness.Node). examples/ is
// applied as Argo CD would sync it, with its Deployments running the local workspace image; the
// controller-manager makes their Pods. It ends inside team-b's running workspace: the library it
// reads, then a ConfigMap update arriving there without a restart.
func runOnNode(ctx context.Context, out io.Writer, once bool) (err error) {
	start := time.Now()
	fmt.Fprintln(out, "Starting etcd + kube-apiserver (loopback only), a node (containerd, kubelet, controller-manager,")
	fmt.Fprintln(out, "scheduler; host-only Pod network) and building the webhook...")
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	node, err := harness.PrepareNode(ctx, harness.NodeOptions{})
	if err != nil {
		return fmt.Errorf("preparing the node: %w", err)
	}
	var inj *harness.Injector
	defer func() {
		fmt.Fprintln(out, "Stopping the node, the webhook, kube-apiserver and etcd, then restoring the host...")
		// The node's processes, the control plane, then the host: the API server waits for its
		// clients' watches, and serves on the Pod bridge's address, which goes with the bridge.
		err = errors.Join(err, node.Halt())
		if inj != nil {
			err = errors.Join(err, inj.Close())
		}
		err = errors.Join(err, node.Stop())
	}()
	var seed []*unstructured.Unstructured
	var deployments []*appsv1.Deployment
	var straggler *corev1.Pod
	// The cluster had its teams, ConfigMaps and one running workspace before the injector was
	// installed: they are created while the webhook runs unregistered.
	inj, err = harness.Start(ctx, harness.Options{
		WebhookConfigName: registration,
		WebhookArgs:       []string{versionsFlag},
		APIServerFlags:    node.APIServerFlags(),
		APIServerAddr:     node.APIServerAddr(),
		BeforeRegister: func(ctx context.Context, inj *harness.Injector) error {
			if err := node.Start(ctx, inj.ControlPlane); err != nil {
				return err
			}
			var err error
			if seed, deployments, err = applySeed(ctx, inj, filepath.Join(root, "examples")); err != nil {
				return err
			}
			straggler, err = startStraggler(ctx, inj)
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("%w (node logs in %s)", err, node.LogDir())
	}
	fmt.Fprintf(out, "Control plane, node %s and webhook ready in %s: webhook pid %d serving on %s (Service %s/%s).\n\n",
		harness.NodeName, time.Since(start).Round(100*time.Millisecond), inj.Webhook.PID(), inj.Service.Addr(), inj.Service.Namespace, inj.Service.Name)
	fmt.Fprintf(out, "Applied examples/ before registering the webhook: %s (the Deployments come next).\n", summarize(seed))
	fmt.Fprintf(out, "Also created then: Deployment team-a/coder-carol-dev, a workspace that was running before the injector was\n")
	fmt.Fprintf(out, "installed. Its Pod %s runs without the mounts: a straggler (configmap=\"none\") below.\n\n", straggler.Name)

	fmt.Fprintln(out, "Each Deployment of examples/ runs the local workspace image (no registry here). The controller-manager")
	fmt.Fprintln(out, "turns it into a ReplicaSet and a Pod (generateName \"<deployment>-\"), the webhook mutates that Pod on")
	fmt.Fprintln(out, "admission, the scheduler places it on the node and kubelet starts it:")
	fmt.Fprintln(out)
	rows, pods, err := runWorkspaces(ctx, inj, seed, deployments)
	if err != nil {
		return err
	}
	printTable(out, rows)
	if err := printMetricsAndAdoption(ctx, out, inj); err != nil {
		return err
	}
	bob, ok := pods["team-b"]
	if !ok {
		return errors.New("examples/ has no workspace in team-b")
	}
	if err := showLibrary(ctx, out, inj, bob); err != nil {
		return err
	}
	if err := showLiveUpdate(ctx, out, inj, bob, node.SyncFrequency()); err != nil {
		return err
	}
	if err := showRollout(ctx, out, inj, root, harness.WorkspaceImage, true); err != nil {
		return err
	}
	stopDistributor, err := showDistribution(ctx, out, inj, root, nil, harness.WorkspaceImage, true)
	if stopDistributor != nil {
		defer func() { err = errors.Join(err, stopDistributor()) }()
	}
	if err != nil {
		return err
	}
	if err := showExplain(ctx, out, inj, nil, straggler.Namespace, straggler.Name); err != nil {
		return err
	}

	printTryIt(out, inj, harness.WorkspaceImage+" --image-pull-policy=Never")
	for _, d := range deployments {
		fmt.Fprintf(out, "  kubectl -n %s exec deploy/%s -c dev -- head -n 3 /apps/tilt-lib/tilt_lib.star\n", d.Namespace, d.Name)
	}
	fmt.Fprintf(out, "  (node logs: %s)\n", node.LogDir())
	if once {
		return nil
	}
	fmt.Fprintln(out, "\nRunning until Ctrl-C.")
	<-ctx.Done()
	return nil
}

// applySeed creates every object of dir's *.yaml files except the Deployments, which it returns
// made runnable on the node (harness.RunOnNode); objs are the created objects.
func applySeed(ctx context.Context, inj *harness.Injector, dir string) (objs []*unstructured.Unstructured, deployments []*appsv1.Deployment, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	c, err := client.New(inj.Config, client.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	for _, f := range files {
		read, err := harness.ReadObjects(f)
		if err != nil {
			return nil, nil, err
		}
		for _, o := range read {
			if o.GetKind() == "Deployment" {
				d := &appsv1.Deployment{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
					return nil, nil, fmt.Errorf("reading Deployment %s/%s: %w", o.GetNamespace(), o.GetName(), err)
				}
				harness.RunOnNode(&d.Spec.Template.Spec)
				deployments = append(deployments, d)
				continue
			}
			if err := c.Create(ctx, o); err != nil {
				return nil, nil, fmt.Errorf("creating %s %s/%s from %s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), f, err)
			}
			objs = append(objs, o)
		}
	}
	return objs, deployments, nil
}

// startStraggler runs a workspace Deployment in team-a while no registration sends its Pod to the
// webhook, and waits for that Pod to run.
func startStraggler(ctx context.Context, inj *harness.Injector) (*corev1.Pod, error) {
	labels := map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue, "app.kubernetes.io/instance": stragglerName}
	spec := harness.WorkspacePodSpec()
	harness.RunOnNode(&spec)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: stragglerName, Namespace: "team-a", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	pod, err := runDeployment(ctx, inj, d)
	if err != nil {
		return nil, fmt.Errorf("the straggler workspace: %w", err)
	}
	if status, ok := pod.Annotations[harness.KeyStatus]; ok {
		return nil, fmt.Errorf("the straggler %s/%s was reviewed by the webhook (status %q): it must predate the registration", pod.Namespace, pod.Name, status)
	}
	return pod, nil
}

// runWorkspaces creates each Deployment once the webhook resolves its namespace's pin, waits for
// its Pod to run and reads back what the webhook gave it; pods are by namespace.
func runWorkspaces(ctx context.Context, inj *harness.Injector, seed []*unstructured.Unstructured, deployments []*appsv1.Deployment) ([]row, map[string]*corev1.Pod, error) {
	var rows []row
	pods := map[string]*corev1.Pod{}
	for _, d := range deployments {
		if err := waitSeen(ctx, inj, d, seed); err != nil {
			return nil, nil, err
		}
		pod, err := runDeployment(ctx, inj, d)
		if err != nil {
			return nil, nil, err
		}
		rec, _, err := harness.InjectedRecord(pod)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{Namespace: pod.Namespace, Pod: pod.Name, Lib: rec.Lib, Templates: rec.Templates,
			Status: pod.Annotations[harness.KeyStatus]})
		pods[pod.Namespace] = pod
	}
	return rows, pods, nil
}

// runDeployment creates d (once its namespace's default ServiceAccount exists: ServiceAccount
// admission wants it) and waits until its one Pod runs with every container ready.
func runDeployment(ctx context.Context, inj *harness.Injector, d *appsv1.Deployment) (*corev1.Pod, error) {
	err := harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		_, err := inj.Client.CoreV1().ServiceAccounts(d.Namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("no default ServiceAccount in %s: %w", d.Namespace, err)
	}
	if _, err := inj.Client.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return harness.WaitRunningPod(ctx, inj.Client, d, "", 2*time.Minute)
}

// showLibrary prints the first lines of the library inside the running workspace, read through
// the API server (kubectl exec; the API server calls kubelet on 127.0.0.1).
func showLibrary(ctx context.Context, out io.Writer, inj *harness.Injector, pod *corev1.Pod) error {
	args := []string{"exec", "-n", pod.Namespace, pod.Name, "-c", "dev", "--", "head", "-n", "3", "/apps/tilt-lib/tilt_lib.star"}
	stdout, stderr, err := inj.Kubectl(ctx, args...)
	if err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr)
	}
	fmt.Fprintf(out, "\nInside team-b's running workspace (kubectl %s):\n", strings.Join(args, " "))
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		fmt.Fprintf(out, "  %s\n", line)
	}
	return nil
}

// showLiveUpdate changes team-b's library ConfigMap (as an Argo CD sync would) and waits for the
// running workspace to read it, then for the adoption gauge to report its new version.
func showLiveUpdate(ctx context.Context, out io.Writer, inj *harness.Injector, pod *corev1.Pod, syncFrequency time.Duration) error {
	rec, _, err := harness.InjectedRecord(pod)
	if err != nil || rec.Lib == nil {
		return fmt.Errorf("team-b's workspace has no library (%v)", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen, err := harness.FollowLib(ctx, inj.Client, pod.Namespace, pod.Name, "dev")
	if err != nil {
		return err
	}
	cm, err := inj.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, rec.Lib.ConfigMap, metav1.GetOptions{})
	if err != nil {
		return err
	}
	_, rest, _ := strings.Cut(cm.Data["tilt_lib.star"], "\n")
	cm.Data["tilt_lib.star"] = liveUpdate + "\n" + rest
	cm.Labels["version"] = "2.0.2"
	sent := time.Now()
	if _, err := inj.Client.CoreV1().ConfigMaps(pod.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	at, err := harness.AwaitLib(seen, liveUpdate, time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nLive update: ConfigMap %s/%s changed to version 2.0.2 (as an Argo CD sync would). The running\n", cm.Namespace, cm.Name)
	fmt.Fprintf(out, "workspace read the new library %s later, without a restart (kubelet syncFrequency %s):\n",
		at.Sub(sent).Round(100*time.Millisecond), syncFrequency)
	fmt.Fprintf(out, "  %s\n", liveUpdate)
	gauge := harness.Series{Name: podsGauge, Labels: map[string]string{
		"namespace": pod.Namespace, "component": "tilt-lib", "configmap": cm.Name, "version": "2.0.2"}}
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		sn, err := inj.Scrape(ctx)
		return err == nil && sn.Get(gauge) == 1, err
	})
	if err != nil {
		return fmt.Errorf("the adoption gauge never counted the workspace at 2.0.2: %w", err)
	}
	fmt.Fprintf(out, "and the adoption gauge counts it at the new version: %s 1\n", gauge.Key())
	return nil
}
