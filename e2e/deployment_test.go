//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDeploymentPod: Coder's templates run workspaces as Deployments. The Deployment itself is
// not mutated (the webhook only sees Pods); the Pod its ReplicaSet creates — generateName, no
// name yet at admission — is. There is no controller-manager here, so the test creates that Pod
// from the stored Deployment's template, as the ReplicaSet controller would.
func TestDeploymentPod(t *testing.T) {
	ns := namespace(t, "deploy", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)
	before := scrape(t)

	ctx := context.Background()
	labels := map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue, "app.kubernetes.io/instance": "coder-alice-dev"}
	d, err := inj.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coder-alice-dev", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       harness.WorkspacePodSpec(),
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "tilt-lib" || v.Name == "tilt-templates" {
			t.Errorf("the Deployment's template must not be mutated; has volume %s", v.Name)
		}
	}

	pod, warnings := createPod(t, ns, harness.PodFromDeployment(d))
	if !strings.HasPrefix(pod.Name, d.Name+"-") || len(pod.Name) <= len(d.Name)+1 {
		t.Errorf("pod name %q is not generated from %q", pod.Name, d.Name+"-")
	}
	assertInjected(t, pod, libV2Namespace, templatesDefault)
	assertNoWarnings(t, warnings)
	expectDelta(t, before, injected(libV2Namespace, templatesDefault, "none"))
}
