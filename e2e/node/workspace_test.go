//go:build e2e

package node

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// workspace is a running workspace of examples/: its namespace, Deployment and Pod.
type workspace struct {
	ns, deployment string
	pod            *corev1.Pod
	// lib is the library ConfigMap its namespace is pinned to, as stored.
	lib *corev1.ConfigMap
}

// startExampleWorkspace creates examples/<file> as Argo CD would sync it, in namespace ns instead
// of the file's own (each test has its own): the Namespace and the ConfigMaps as they are, the
// Deployment with its dev container running the e2e workspace image (harness.RunOnNode: no
// registry, harness.WatchLibCommand instead of `coder agent`). It waits for the Deployment's Pod
// to run and returns it.
func startExampleWorkspace(t *testing.T, file, ns, libConfigMap string) workspace {
	t.Helper()
	return runWorkspace(t, seedExample(t, file, ns), libConfigMap)
}

// seedExample creates the Namespace and ConfigMaps of examples/<file> in namespace ns and returns
// the file's Deployment, made runnable on the node, not yet created.
func seedExample(t *testing.T, file, ns string) *appsv1.Deployment {
	t.Helper()
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := harness.ReadObjects(filepath.Join(root, "examples", file))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(inj.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			o.SetName(ns)
		} else {
			o.SetNamespace(ns)
		}
		if o.GetKind() == "Deployment" {
			d = &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
				t.Fatalf("decoding the Deployment of %s: %v", file, err)
			}
			continue
		}
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %s %s/%s from %s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), file, err)
		}
	}
	if d == nil {
		t.Fatalf("%s has no Deployment", file)
	}
	devContainer(t, &d.Spec.Template.Spec)
	harness.RunOnNode(&d.Spec.Template.Spec)
	waitDefaultServiceAccount(t, d.Namespace)
	return d
}

// runWorkspace creates Deployment d and waits for its Pod to run.
func runWorkspace(t *testing.T, d *appsv1.Deployment, libConfigMap string) workspace {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	if _, err := inj.Client.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Deployment %s/%s: %v", d.Namespace, d.Name, err)
	}
	pod := waitRunningPod(t, d, "")
	t.Logf("Deployment %s/%s created → Pod %s Running in %s", d.Namespace, d.Name, pod.Name, time.Since(start).Round(time.Millisecond))
	lib, err := inj.Client.CoreV1().ConfigMaps(d.Namespace).Get(ctx, libConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return workspace{ns: d.Namespace, deployment: d.Name, pod: pod, lib: lib}
}

// devContainer is the container the injector mounts into (the Coder template's "dev"); the
// tests exec into it.
func devContainer(t *testing.T, spec *corev1.PodSpec) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == "dev" {
			return &spec.Containers[i]
		}
	}
	t.Fatal("the example Deployment has no container named dev")
	return nil
}

// waitDefaultServiceAccount waits for the controller-manager to create ns's default
// ServiceAccount (ServiceAccount admission refuses Pods until then; the ReplicaSet controller
// would retry, but later).
func waitDefaultServiceAccount(t *testing.T, ns string) {
	t.Helper()
	err := harness.Poll(context.Background(), time.Minute, func(ctx context.Context) (bool, error) {
		_, err := inj.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("no default ServiceAccount in %s: %v", ns, err)
	}
}

// waitRunningPod waits until the Deployment d has exactly one Pod, other than the one with UID
// not (a Pod being replaced), Running with every container ready, and returns it.
func waitRunningPod(t *testing.T, d *appsv1.Deployment, not types.UID) *corev1.Pod {
	t.Helper()
	pod, err := harness.WaitRunningPod(context.Background(), inj.Client, d, not, 2*time.Minute)
	if err != nil {
		t.Fatalf("%v (events: %s; node logs in %s)", err, events(d.Namespace), node.LogDir())
	}
	return pod
}

// events summarises a namespace's Events (the ReplicaSet controller's FailedCreate, the
// scheduler's FailedScheduling, kubelet's), for failure messages.
func events(ns string) string {
	list, err := inj.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, fmt.Sprintf("%s %s/%s %s: %s", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
	}
	return strings.Join(out, "; ")
}

// execIn runs a command in a running container through the API server (kubectl exec: the API
// server calls kubelet on 127.0.0.1, kubelet the container runtime). A non-zero exit is an
// error of type *exec.ExitError, with stderr.
func execIn(ctx context.Context, w workspace, command ...string) (stdout, stderr string, err error) {
	return inj.Kubectl(ctx, append([]string{"exec", "-n", w.ns, w.pod.Name, "-c", "dev", "--"}, command...)...)
}

// mustExec is execIn that fails the test on any error.
func mustExec(t *testing.T, w workspace, command ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, stderr, err := execIn(ctx, w, command...)
	if err != nil {
		t.Fatalf("exec %q in %s/%s: %v: %s", command, w.ns, w.pod.Name, err, stderr)
	}
	return out
}

// TestWorkspaceReadsTheLibrary: the Coder-style workspace Deployment of examples/team-b.yaml
// (namespace pinned to v2) runs on the node; the controller-manager made its ReplicaSet and Pod,
// the scheduler placed it, kubelet started it; inside the running container, as the non-root
// user the Deployment asks for, the library holds the v2 ConfigMap's content, the Tiltfile
// template is there, and the library's folder is read-only.
func TestWorkspaceReadsTheLibrary(t *testing.T) {
	w := startExampleWorkspace(t, "team-b.yaml", "team-b-reads", "tilt-lib-v2")
	ctx := context.Background()

	owner := metav1.GetControllerOf(w.pod)
	if owner == nil || owner.Kind != "ReplicaSet" {
		t.Fatalf("Pod %s is not owned by a ReplicaSet: %v", w.pod.Name, owner)
	}
	rs, err := inj.Client.AppsV1().ReplicaSets(w.ns).Get(ctx, owner.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rsOwner := metav1.GetControllerOf(rs); rsOwner == nil || rsOwner.Kind != "Deployment" || rsOwner.Name != w.deployment {
		t.Errorf("ReplicaSet %s is not owned by Deployment %s: %v", rs.Name, w.deployment, rsOwner)
	}
	if w.pod.Spec.NodeName != harness.NodeName {
		t.Errorf("Pod scheduled to %q, want the node %s", w.pod.Spec.NodeName, harness.NodeName)
	}
	rec, ok, err := harness.InjectedRecord(w.pod)
	if err != nil || !ok || rec.Lib == nil || rec.Lib.ConfigMap != w.lib.Name {
		t.Fatalf("Pod %s not injected with %s: record %+v, present %v, err %v", w.pod.Name, w.lib.Name, rec, ok, err)
	}

	if uid := strings.TrimSpace(mustExec(t, w, "id", "-u")); uid == "0" || uid == "" {
		t.Errorf("the workspace runs as uid %q, want the Deployment's non-root user", uid)
	}
	if got, want := mustExec(t, w, "cat", "/apps/tilt-lib/tilt_lib.star"), w.lib.Data["tilt_lib.star"]; got != want {
		t.Errorf("/apps/tilt-lib/tilt_lib.star in the running container:\n%s\nwant the content of ConfigMap %s:\n%s", got, w.lib.Name, want)
	}
	templates, err := inj.Client.CoreV1().ConfigMaps(w.ns).Get(ctx, rec.Templates.ConfigMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustExec(t, w, "cat", "/apps/template/Tiltfile"), templates.Data["Tiltfile"]; got != want {
		t.Errorf("/apps/template/Tiltfile in the running container:\n%s\nwant ConfigMap %s's:\n%s", got, templates.Name, want)
	}
	for _, write := range [][]string{
		{"touch", "/apps/tilt-lib/new.star"},
		{"sh", "-c", "echo overwritten > /apps/tilt-lib/tilt_lib.star"},
	} {
		_, stderr, err := execIn(ctx, w, write...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !strings.Contains(stderr, "Read-only file system") {
			t.Errorf("%q under /apps/tilt-lib: err %v, stderr %q; want a failure with \"Read-only file system\"", write, err, stderr)
		}
	}
	assertNoDefaultRoute(t, w)
	if err := node.CheckHostNetwork(); err != nil {
		t.Errorf("host network while a workspace runs: %v", err)
	}
}

// rtfReject is RTF_REJECT, the flag of an "unreachable" route.
const rtfReject = 0x0200

// assertNoDefaultRoute: the Pod network stays on this machine; a Pod has routes to its own subnet
// only (IPv4 from /proc/net/route, IPv6 from /proc/net/ipv6_route, reject routes aside).
func assertNoDefaultRoute(t *testing.T, w workspace) {
	t.Helper()
	v4 := mustExec(t, w, "cat", "/proc/net/route")
	for _, line := range strings.Split(v4, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 7 && f[1] == "00000000" && f[7] == "00000000" {
			t.Errorf("the Pod has an IPv4 default route: %q", line)
		}
	}
	v6, _, err := execIn(context.Background(), w, "cat", "/proc/net/ipv6_route")
	if err != nil {
		return // IPv6 disabled in the Pod: no IPv6 route at all
	}
	for _, line := range strings.Split(v6, "\n") {
		f := strings.Fields(line)
		if len(f) != 10 || strings.Trim(f[0], "0") != "" || f[1] != "00" {
			continue // not ::/0 (fields: dest, prefix length, ..., flags, device)
		}
		if flags, err := strconv.ParseUint(f[8], 16, 32); err == nil && flags&rtfReject != 0 {
			continue // the kernel's "unreachable" entry every namespace has
		}
		t.Errorf("the Pod has an IPv6 default route: %q", line)
	}
}
