//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
)

// explainNS is the namespace of the explain scenarios: it pins stable (= v2), whose ConfigMap
// exists only in default.
const explainNS = "team-explain"

// TestExplain runs `webhook explain` against an installed webhook of its own (so that a
// workspace can predate the registration, as the demo's carol does), with a Deployment in the
// injector's namespace whose args are the running webhook's: the configuration explain reads.
func TestExplain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := harness.Start(ctx, harness.Options{
		WebhookArgs: []string{"--alias=stable=v2"},
		BeforeRegister: func(ctx context.Context, inj *harness.Injector) error {
			if err := createNamespace(ctx, inj.Client, explainNS, map[string]string{"tilt-lib.platform/version": "stable"}); err != nil {
				return err
			}
			_, err := inj.Client.CoreV1().Pods(explainNS).Create(ctx, harness.WorkspacePod("coder-carol-dev", nil), metav1.CreateOptions{})
			return err
		},
	})
	if err != nil {
		if e != nil {
			e.KeepWorkDir()
		}
		t.Fatalf("starting a webhook: %v", err)
	}
	defer func() {
		if t.Failed() {
			e.KeepWorkDir()
			t.Logf("kept %s", e.WorkDir)
		}
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}()
	installFixtures(ctx, t, e)

	run := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, e.Webhook.Binary, append([]string{"explain", "--kubeconfig", e.Kubeconfig}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("running explain: %v", err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	expect := func(name string, wantCode int, wantOut []string, args ...string) string {
		t.Helper()
		code, out, errOut := run(args...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr %q\n%s", name, code, wantCode, errOut, out)
		}
		for _, w := range wantOut {
			if !strings.Contains(out+errOut, w) {
				t.Errorf("%s: output lacks %q:\n%s%s", name, w, out, errOut)
			}
		}
		return out
	}

	registration := "registration              √       tilt-lib-injector, failurePolicy Ignore, 1/1 endpoints ready; configuration from deployment tilt-lib-injector/tilt-lib-injector args"
	expect("the un-injected workspace created before the webhook", explain.ExitError, []string{registration,
		"recorded                  ×       created before the webhook", "a restart now gives tilt-lib-v2"},
		"pod/coder-carol-dev", "-n", explainNS)
	expect("a Pod without the workspace label", explain.ExitError, []string{
		"object selector           ×       app.kubernetes.io/name=coder-workspace does not match"},
		"pod/plain", "-n", explainNS)
	expect("a workload's template, pinned to a ConfigMap that is elsewhere", explain.ExitError, []string{registration,
		"tilt-lib version          √       namespace team-explain pins stable → alias stable = v2",
		"tilt-lib configmap        ×       tilt-lib-v2 not in team-explain (it exists in: default)",
		"copy it into team-explain"},
		"deploy/coder-dave", "-n", explainNS)
	expect("a CronJob's job template", explain.ExitError, []string{"cronjob/nightly in team-explain",
		"tilt-lib configmap        ×       tilt-lib-v2 not in team-explain (it exists in: default)"},
		"cj/nightly", "-n", explainNS)
	expect("the namespace and its stragglers", explain.ExitError, []string{
		"stragglers                ‼       1 of 1 workspace Pods run another choice: coder-carol-dev (never injected"},
		"namespace/"+explainNS)
	expect("a missing object", explain.ExitUsage, []string{"pods nobody in namespace team-explain not found"}, "pod/nobody", "-n", explainNS)

	// --server agrees with a dry run the test makes itself, and the decision is the deployed one.
	out := expect("a new Pod, checked against the deployed webhook", explain.ExitError, []string{`"layer": "server"`},
		"--new", "-n", explainNS, "--server", "-o", "json")
	var o explain.Output
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("explain -o json: %v\n%s", err, out)
	}
	dry := harness.WorkspacePod("", nil)
	dry.GenerateName = "dry-"
	got, err := e.Client.CoreV1().Pods(explainNS).Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok, err := harness.InjectedRecord(got)
	if err != nil || !ok {
		t.Fatalf("dry run not injected: %v", err)
	}
	if srv := o.Reports[0].Checks[len(o.Reports[0].Checks)-1]; srv.Layer != explain.LayerServer || srv.Result != explain.OK {
		t.Errorf("--server: %+v", srv)
	}
	d := o.Reports[0].Decision
	if lib := rec.Lib; lib == nil || d.Components[0].ConfigMap != lib.ConfigMap || d.Status != got.Annotations["tilt-lib.platform/status"] {
		t.Errorf("explain decided %+v, the dry run recorded %+v", d, rec)
	}
	// Local flags that differ from the Deployment's args: --server says so.
	expect("--from-flags that differ from the deployed args", explain.ExitError, []string{
		"server                    ×       the deployed webhook mounted tilt-lib (tilt-lib-v2)", "configuration from local flags (--from-flags)"},
		"--new", "-n", explainNS, "--server", "--from-flags", "--alias", "stable=v3")

	explainWorkloads(ctx, t, e, run)
}

func createNamespace(ctx context.Context, c kubernetes.Interface, name string, annotations map[string]string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}, metav1.CreateOptions{})
	return err
}

// installFixtures creates what a chart install has besides the running process (the Deployment
// whose args explain parses, the EndpointSlice the endpoint controller would write: an object
// only, at a documentation address, since the API server refuses loopback ones) and the
// scenario's objects.
func installFixtures(ctx context.Context, t *testing.T, e *harness.Injector) {
	t.Helper()
	c := e.Client
	ns := e.Service.Namespace
	sel := map[string]string{"app.kubernetes.io/name": "tilt-lib-injector"}
	webhook := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-injector", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: sel},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "webhook", Image: "tilt-lib-injector:dev",
				Command: []string{"/webhook"}, Args: e.Webhook.Args}}}}}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: e.Service.Name + "-1", Namespace: ns,
		Labels: map[string]string{discoveryv1.LabelServiceName: e.Service.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}}}
	dave := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "coder-dave", Namespace: explainNS},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue}},
				Spec: harness.WorkspacePodSpec()}}}
	nightly := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: explainNS},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue}},
				Spec: withRestartNever(harness.WorkspacePodSpec())}}}}}
	plain := harness.WorkspacePod("plain", nil)
	plain.Labels = map[string]string{"app": "not-a-workspace"}
	cm := func(name, namespace, version string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"version": version}}}
	}
	steps := []func() error{
		func() error {
			_, err := c.AppsV1().Deployments(ns).Create(ctx, webhook, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.AppsV1().Deployments(explainNS).Create(ctx, dave, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.CoreV1().Pods(explainNS).Create(ctx, plain, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.BatchV1().CronJobs(explainNS).Create(ctx, nightly, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.CoreV1().ConfigMaps("default").Create(ctx, cm("tilt-lib-v2", "default", "2.0.1"), metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := c.CoreV1().ConfigMaps(explainNS).Create(ctx, cm("tilt-templates", explainNS, "1.1.0"), metav1.CreateOptions{})
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("fixtures: %v", err)
		}
	}
}

// withRestartNever: a Job's Pods may not restart Always.
func withRestartNever(s corev1.PodSpec) corev1.PodSpec {
	s.RestartPolicy = corev1.RestartPolicyNever
	return s
}
