package reviewtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Naive is the baseline of the benchmarks and of `make loadtest`: the webhook kubebuilder scaffolds, doing the same
// mutation. It decodes the Pod with controller-runtime's decoder, takes the same decision
// (mutate.Mutate), changes the typed Pod, marshals it and diffs it against the request's bytes
// (admission.PatchResponseFromRaw).
type Naive struct {
	options    mutate.Options
	namespaces decide.Namespaces
	configMaps mutate.ConfigMapLookup
}

// NewNaive is a Naive deciding with options, namespaces and configMaps (as decide.Decider does).
func NewNaive(options mutate.Options, namespaces decide.Namespaces, configMaps mutate.ConfigMapLookup) *Naive {
	return &Naive{options: options, namespaces: namespaces, configMaps: configMaps}
}

// Handle is admission.Handler.
func (n *Naive) Handle(ctx context.Context, req admission.Request) admission.Response {
	pod := &corev1.Pod{}
	if err := decoder.Decode(req, pod); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	ann, _, err := n.namespaces.NamespaceAnnotations(ctx, req.Namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	res := mutate.Mutate(n.options, mutate.Request{Namespace: req.Namespace, NamespaceAnnotations: ann, Pod: pod, ConfigMaps: n.configMaps})
	for _, op := range res.Patch {
		change(pod, op)
	}
	current, err := json.Marshal(pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, current).WithWarnings(res.Warnings...)
}

// change makes the typed change one operation of mutate's patch stands for, as a hand-written
// kubebuilder defaulter would (append volumes and mounts, set labels and annotations).
func change(pod *corev1.Pod, op jsonpatch.Operation) {
	parts := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
	key := func() string { return strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[len(parts)-1]) }
	switch {
	case parts[0] == "spec" && parts[1] == "volumes":
		switch v := op.Value.(type) {
		case corev1.Volume:
			pod.Spec.Volumes = append(pod.Spec.Volumes, v)
		case []corev1.Volume:
			pod.Spec.Volumes = append(pod.Spec.Volumes, v...)
		}
	case parts[0] == "spec" && parts[1] == "containers":
		i, _ := strconv.Atoi(parts[2])
		c := &pod.Spec.Containers[i]
		switch v := op.Value.(type) {
		case corev1.VolumeMount:
			c.VolumeMounts = append(c.VolumeMounts, v)
		case []corev1.VolumeMount:
			c.VolumeMounts = append(c.VolumeMounts, v...)
		}
	case parts[0] == "metadata":
		m := &pod.Annotations
		if parts[1] == "labels" {
			m = &pod.Labels
		}
		switch v := op.Value.(type) {
		case map[string]string:
			*m = v
		case string:
			(*m)[key()] = v
		default:
			delete(*m, key())
		}
	}
}
