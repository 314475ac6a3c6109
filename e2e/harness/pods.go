package harness

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// Prefix is the default annotation and label prefix of the injector.
const Prefix = "tilt-lib.platform/"

// Keys the injector reads (from Pods and Namespaces) and writes (onto Pods).
const (
	KeyVersion          = Prefix + "version"
	KeyTemplatesVersion = Prefix + "templates-version"
	KeyInject           = Prefix + "inject"
	KeyContainers       = Prefix + "containers"
	KeyAllowPodOverride = Prefix + "allow-pod-override"
	KeyStatus           = Prefix + "status"
	KeyInjected         = Prefix + "injected"
	// The requested-version labels: the version each component asked for (KeyVersion and
	// KeyTemplatesVersion as labels are what it mounts).
	KeyRequestedVersion          = Prefix + mutate.RequestedKeyPrefix + mutate.KeyVersion
	KeyRequestedTemplatesVersion = Prefix + mutate.RequestedKeyPrefix + mutate.KeyTemplatesVersion
)

// workspaceShape is the e2e suite's workspace Pod: besides the dev container, a sidecar and an
// init container the webhook must leave untouched, and a data volume every container already
// mounts, so the patch appends to the Pod's own lists.
var workspaceShape = reviewtest.Shape{Sidecars: 1, InitContainers: 1, Volumes: 1}

// WorkspacePod is reviewtest's workspace Pod (the one builder of every suite) in workspaceShape,
// named name (empty: generateName only) with annotations, as a test creates it itself: in the
// namespace it is created in, owned by nothing.
func WorkspacePod(name string, annotations map[string]string) *corev1.Pod {
	s := workspaceShape
	s.Name, s.Annotations = name, annotations
	if annotations == nil {
		s.Annotations = map[string]string{}
	}
	p := reviewtest.WorkspacePod(s)
	p.Namespace, p.OwnerReferences = "", nil
	// On the e2e node these Pods (and Deployments of this spec) really run, and no
	// PersistentVolumeClaim exists there: the scheduler would leave them Pending. An emptyDir keeps
	// the volume (and every mount of it) with nothing to provision.
	for i := range p.Spec.Volumes {
		if p.Spec.Volumes[i].PersistentVolumeClaim != nil {
			p.Spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}
	}
	return p
}

// WorkspacePodSpec is the spec of WorkspacePod (also the Deployment template of the examples).
func WorkspacePodSpec() corev1.PodSpec { return WorkspacePod("", nil).Spec }

// PodFromDeployment is the Pod the ReplicaSet controller would create from d (there is no
// controller-manager here): generateName "<deployment>-", no name, the template's labels,
// annotations and spec, and no ownerReferences (a ReplicaSet would own it; none exists).
func PodFromDeployment(d *appsv1.Deployment) *corev1.Pod {
	t := d.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: d.Name + "-",
			Namespace:    d.Namespace,
			Labels:       t.Labels,
			Annotations:  t.Annotations,
		},
		Spec: t.Spec,
	}
}

// Record is a Pod's injected annotation, read with mutate.Record (its one definition), with the
// product's two components at hand: nil when not recorded.
type Record struct {
	Lib, Templates *mutate.RecordComponent
	Containers     []string
}

// Show is "configmap@version" ("configmap" when the version is unknown), "-" when c is nil.
func Show(c *mutate.RecordComponent) string {
	switch {
	case c == nil:
		return "-"
	case c.Version == "":
		return c.ConfigMap
	}
	return c.ConfigMap + "@" + c.Version
}

// InjectedRecord parses the injected annotation of pod; ok is false when it is absent.
func InjectedRecord(pod *corev1.Pod) (rec Record, ok bool, err error) {
	raw, ok := pod.Annotations[KeyInjected]
	if !ok {
		return Record{}, false, nil
	}
	var r mutate.Record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Record{}, true, fmt.Errorf("annotation %s is not the documented JSON: %w", KeyInjected, err)
	}
	return Record{Lib: r.Component(mutate.LibVolume), Templates: r.Component(mutate.TemplatesVolume), Containers: r.Containers}, true, nil
}
