package main

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// installed is a chart install as the API holds it: the registration, the Service, one ready and
// one unready endpoint, the Deployment whose args (and env) configure the webhook, and a versions
// document.
func installed(args []string, env []corev1.EnvVar) []runtime.Object {
	sel := map[string]string{"app.kubernetes.io/name": "tilt-lib-injector"}
	return []runtime.Object{
		&admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-injector", CreationTimestamp: metav1.NewTime(time.Unix(1e9, 0))},
			Webhooks: []admissionv1.MutatingWebhook{{Name: "pods.tilt-lib.platform",
				ClientConfig:   admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "tli", Name: "tilt-lib-injector"}},
				Rules:          []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create}, Rule: admissionv1.Rule{Resources: []string{"pods"}}}},
				FailurePolicy:  ptr.To(admissionv1.Ignore),
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "coder-workspace"}},
			}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "tli", Name: "tilt-lib-injector"}, Spec: corev1.ServiceSpec{Selector: sel}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "tli", Name: "s", Labels: map[string]string{discoveryv1.LabelServiceName: "tilt-lib-injector"}},
			Endpoints: []discoveryv1.Endpoint{{Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}, {Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "tli", Name: "other"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "other"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Args: []string{"serve", "--default-version=wrong"}}}}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "tli", Name: "tilt-lib-injector"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "proxy", Args: []string{"--listen=:1"}},
				{Name: "webhook", Command: []string{"/webhook"}, Args: args, Env: env}}}}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "tli", Name: "versions"}, Data: map[string]string{"versions.yaml": "aliases: {stable: v7}\n"}},
	}
}

// The configuration is the Deployment's: its args through serve's flag set, its literal env, the
// versions document its args name; the registration's policy, selector and endpoints are read.
func TestReadDeployed(t *testing.T) {
	e := &liveEnv{cs: fake.NewClientset(installed(
		[]string{"serve", "--alias=stable=v2", "--versions-configmap=tli/versions"},
		[]corev1.EnvVar{{Name: "TILTLIB_DEFAULT_VERSION", Value: "stable"}})...)}
	ctx := context.Background()
	if err := e.readWebhook(ctx, "tilt-lib-injector"); err != nil {
		t.Fatal(err)
	}
	w := e.webhook
	if !w.Found || w.FailurePolicy != "Ignore" || w.Ready != 1 || w.Endpoints != 2 || w.ObjectSelector.String() != "app.kubernetes.io/name=coder-workspace" ||
		!w.Registered.Equal(time.Unix(1e9, 0)) {
		t.Errorf("webhook %+v", w)
	}
	if err := e.readDeployed(ctx); err != nil {
		t.Fatal(err)
	}
	if e.cfg.DefaultVersion != "stable" || e.opts.Aliases["stable"] != "v7" || !strings.Contains(w.ConfigSource, "deployment tli/tilt-lib-injector args, versions document tli/versions") {
		t.Errorf("config: default %q aliases %v, source %q", e.cfg.DefaultVersion, e.opts.Aliases, w.ConfigSource)
	}
}

// A missing registration is a row (×), not an error; deployed args serve refuses are an error
// naming the Deployment.
func TestReadDeployedErrors(t *testing.T) {
	ctx := context.Background()
	e := &liveEnv{cs: fake.NewClientset()}
	if err := e.readWebhook(ctx, "tilt-lib-injector"); err != nil || e.webhook.Found {
		t.Errorf("no registration: %v, %+v", err, e.webhook)
	}
	if err := e.readDeployed(ctx); err == nil || !strings.Contains(err.Error(), "--from-flags") {
		t.Errorf("no registration, readDeployed: %v", err)
	}
	e = &liveEnv{cs: fake.NewClientset(installed([]string{"serve", "--no-such-flag"}, nil)...)}
	if err := e.readWebhook(ctx, "tilt-lib-injector"); err != nil {
		t.Fatal(err)
	}
	if err := e.readDeployed(ctx); err == nil || !strings.Contains(err.Error(), "deployment tli/tilt-lib-injector container webhook args") {
		t.Errorf("bad args: %v", err)
	}
}
