package reviewtest

import (
	"fmt"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// AuthnUser is who creates workspace Pods: the ReplicaSet controller.
var AuthnUser = authnv1.UserInfo{
	Username: "system:serviceaccount:kube-system:replicaset-controller",
	UID:      "6f0a3c1e-2b4d-4e8f-9a1b-3c5d7e9f1a2b",
	Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
}

// Shape says which workspace Pod WorkspacePod builds; the zero Shape is the smallest: generated
// name, one dev container, the service-account token volume.
type Shape struct {
	// Name names the Pod; empty leaves only the generateName the ReplicaSet controller sets.
	Name string
	// Annotations, when not nil, replace the Pod's own (Coder's user e-mail).
	Annotations map[string]string
	// Sidecars are containers besides dev ("sidecar-<i>", without CODER_AGENT_TOKEN);
	// InitContainers ("init-<i>") mount nothing, as the webhook must leave them; Env adds
	// variables to every container; Volumes adds PVC volumes ("data-<ii>") mounted into every
	// container.
	Sidecars, InitContainers, Env, Volumes int
	// ManagedFields adds the managedFields of 20 managers a server-side apply history leaves.
	ManagedFields bool
}

// WorkspacePod is the one workspace-Pod builder of the tests, benchmarks, e2e suite and load
// test: a Pod as Coder's kubernetes template creates it (Deployment -> ReplicaSet -> Pod): the dev
// container with CODER_AGENT_TOKEN, sidecars, PVC volumes with mounts, the service-account token
// volume, and optionally init containers and the managedFields a server-side apply leaves.
func WorkspacePod(s Shape) *corev1.Pod {
	container := func(name string, token bool) corev1.Container {
		c := corev1.Container{
			Name:            name,
			Image:           "codercom/enterprise-base:ubuntu",
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{"sh", "-c", "trap 'exit 0' TERM; curl -fsSL https://coder.example.com/bin/coder-linux-amd64 -o /tmp/coder && exec /tmp/coder agent"},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			},
			SecurityContext:          &corev1.SecurityContext{RunAsUser: ptr.To[int64](1000), AllowPrivilegeEscalation: ptr.To(false)},
			TerminationMessagePath:   "/dev/termination-log",
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
		}
		if token {
			c.Env = append(c.Env, corev1.EnvVar{Name: "CODER_AGENT_TOKEN", Value: "00000000-0000-0000-0000-000000000000"},
				corev1.EnvVar{Name: "CODER_AGENT_URL", Value: "https://coder.example.com"})
		}
		for i := range s.Env {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("WORKSPACE_SETTING_%03d", i), Value: fmt.Sprintf("value-%03d-of-a-typical-length", i)})
		}
		for i := range s.Volumes {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: fmt.Sprintf("data-%02d", i), MountPath: fmt.Sprintf("/data/%02d", i)})
		}
		return c
	}
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	p.Name = s.Name
	if s.Name == "" {
		p.GenerateName = "coder-jdoe-myws-6c9d7f8b5d-"
	}
	p.Namespace = "team-a"
	p.Labels = map[string]string{
		"app.kubernetes.io/name":     "coder-workspace",
		"app.kubernetes.io/instance": "coder-workspace-jdoe-myws",
		"com.coder.resource":         "true",
		"com.coder.workspace.id":     "3f0c1b7e-8a52-4d1e-9d3c-2b6a1f4e7c90",
		"com.coder.workspace.name":   "myws",
		"com.coder.user.username":    "jdoe",
		"pod-template-hash":          "6c9d7f8b5d",
	}
	p.Annotations = map[string]string{"com.coder.user.email": "jdoe@example.com"}
	if s.Annotations != nil {
		p.Annotations = s.Annotations
	}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "coder-jdoe-myws-6c9d7f8b5d",
		UID: "5d7c0f2a-4b1e-4e8a-9f3d-7a6b2c1d0e9f", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	if s.ManagedFields {
		fields := `{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:com.coder.resource":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"5d7c0f2a\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"dev\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"CODER_AGENT_TOKEN\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{".":{},"f:limits":{".":{},"f:cpu":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}},"f:securityContext":{".":{},"f:allowPrivilegeEscalation":{},"f:runAsUser":{}},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{".":{},"f:fsGroup":{},"f:runAsUser":{}},"f:terminationGracePeriodSeconds":{}}}`
		for i := range 20 {
			p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{
				Manager: fmt.Sprintf("kube-controller-manager-%d", i), Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
				Time: ptr.To(metav1.NewTime(time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC))), FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(fields),
			})
		}
	}
	p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), FSGroup: ptr.To[int64](1000)}
	p.Spec.RestartPolicy = corev1.RestartPolicyAlways
	p.Spec.DNSPolicy = corev1.DNSClusterFirst
	p.Spec.ServiceAccountName = "default"
	p.Spec.SchedulerName = "default-scheduler"
	p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	p.Spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
	}
	for i := range s.InitContainers {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: fmt.Sprintf("init-%d", i),
			Image: "busybox:1.36", Command: []string{"sh", "-c", "chown -R 1000:1000 /home/coder"}})
	}
	p.Spec.Containers = append(p.Spec.Containers, container("dev", true))
	for i := range s.Sidecars {
		p.Spec.Containers = append(p.Spec.Containers, container(fmt.Sprintf("sidecar-%d", i), false))
	}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](420),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr.To[int64](3607), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		}}}})
	for i := range s.Volumes {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: fmt.Sprintf("data-%02d", i), VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: fmt.Sprintf("coder-3f0c1b7e-data-%02d", i)}}})
	}
	return p
}
