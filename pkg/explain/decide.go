package explain

import (
	"encoding/json"
	"fmt"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// decide runs the webhook's decision on pod and reads the choice off the Pod the patch makes:
// its injected record, its version labels and its status annotation are what admission would
// write, so nothing here re-derives them.
func decide(o mutate.Options, namespace string, nsAnn map[string]string, pod *corev1.Pod, cms mutate.ConfigMapLookup) (Decision, mutate.Result, error) {
	tr := &mutate.Trace{}
	res := mutate.Mutate(o, mutate.Request{Namespace: namespace, NamespaceAnnotations: nsAnn, Pod: pod, ConfigMaps: cms, Trace: tr})
	after, err := applyPatch(pod, res)
	if err != nil {
		return Decision{}, res, err
	}
	d := Decision{Selected: true, Status: res.Status, Steps: tr.Steps}
	rec, err := recordOf(o, after)
	if err != nil {
		return d, res, err
	}
	if rec != nil {
		d.Containers = rec.Containers
	}
	for _, c := range o.Components {
		cd := ComponentDecision{Component: c.Name}
		if rc := recordComponent(rec, c.Name); rc != nil {
			cd.Mounted, cd.ConfigMap, cd.Version, cd.Source = true, rc.ConfigMap, rc.Version, rc.Source
			cd.Label = after.Labels[o.AnnotationPrefix+c.VersionKey]
			cd.Requested = after.Labels[o.AnnotationPrefix+mutate.RequestedKeyPrefix+c.VersionKey]
			_, cd.Exists = cms.Version(namespace, rc.ConfigMap)
		}
		d.Components = append(d.Components, cd)
	}
	return d, res, nil
}

func recordComponent(rec *mutate.Record, name string) *mutate.RecordComponent {
	if rec == nil {
		return nil
	}
	return rec.Component(name)
}

// applyPatch returns the Pod as admission would store it.
func applyPatch(pod *corev1.Pod, res mutate.Result) (*corev1.Pod, error) {
	if len(res.Patch) == 0 {
		return pod, nil
	}
	doc, err := json.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encoding the pod: %w", err)
	}
	ops, err := json.Marshal(res.Patch)
	if err != nil {
		return nil, fmt.Errorf("encoding the patch: %w", err)
	}
	p, err := jsonpatch5.DecodePatch(ops)
	if err != nil {
		return nil, fmt.Errorf("decoding the patch: %w", err)
	}
	if doc, err = p.Apply(doc); err != nil {
		// Not the user's fault: the patch was built from this very Pod.
		return nil, fmt.Errorf("applying the patch: %w", err)
	}
	out := &corev1.Pod{}
	if err := json.Unmarshal(doc, out); err != nil {
		return nil, fmt.Errorf("decoding the patched pod: %w", err)
	}
	return out, nil
}

// recordOf reads the injected record of a Pod; nil when it carries none.
func recordOf(o mutate.Options, pod *corev1.Pod) (*mutate.Record, error) {
	v, ok := pod.Annotations[o.AnnotationPrefix+mutate.KeyInjected]
	if !ok {
		return nil, nil
	}
	rec := &mutate.Record{}
	if err := json.Unmarshal([]byte(v), rec); err != nil {
		return nil, fmt.Errorf("annotation %s%s: %w", o.AnnotationPrefix, mutate.KeyInjected, err)
	}
	return rec, nil
}

// recordedOf is what an admitted Pod carries from its admission.
func recordedOf(o mutate.Options, pod *corev1.Pod) *Recorded {
	r := &Recorded{Status: pod.Annotations[o.AnnotationPrefix+mutate.KeyStatus]}
	// A record that does not parse was not written by the webhook: treated as none.
	r.Record, _ = recordOf(o, pod)
	return r
}
