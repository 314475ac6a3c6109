package inject

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

type groupKind struct{ group, kind string }

// podPaths says where each kind keeps the Pod it runs: the JSON keys from the object to its pod
// template; none for a Pod itself. Matched on group and kind, not version, so that older versions
// (apps/v1beta2, batch/v1beta1) work too: the template sits at the same place in all of them.
var podPaths = map[groupKind][]string{
	{"", "Pod"}:                   nil,
	{"", "ReplicationController"}: {"spec", "template"},
	{"apps", "Deployment"}:        {"spec", "template"},
	{"apps", "StatefulSet"}:       {"spec", "template"},
	{"apps", "DaemonSet"}:         {"spec", "template"},
	{"apps", "ReplicaSet"}:        {"spec", "template"},
	{"batch", "Job"}:              {"spec", "template"},
	{"batch", "CronJob"}:          {"spec", "jobTemplate", "spec", "template"},
}

// podPath returns the keys leading to the Pod (template) of an object of this kind; ok is false
// for kinds that carry no Pod.
func podPath(h header) (path []string, ok bool) {
	path, ok = podPaths[groupKind{h.group(), h.Kind}]
	return path, ok
}

// pointer renders path as an RFC 6901 JSON pointer; the keys of podPaths need no escaping.
func pointer(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return "/" + strings.Join(path, "/")
}

// podSite is the Pod (template) found in an object.
type podSite struct {
	// pod is the Pod Mutate sees: the template's metadata and spec for a workload.
	pod *corev1.Pod
	// hasMetadata is false when the Pod (template) has no metadata object, so the patch must add
	// one before it can add annotations to it.
	hasMetadata bool
}

// podAt decodes the Pod at path in the object js. found is false when a workload has no pod
// template (a key on the path is absent or null).
func podAt(js []byte, path []string) (site podSite, found bool, err error) {
	cur := json.RawMessage(js)
	for i, key := range path {
		var m map[string]json.RawMessage
		if err := utiljson.Unmarshal(cur, &m); err != nil {
			return site, false, fmt.Errorf("%s is not an object", strings.Join(path[:i], "."))
		}
		cur = m[key]
		if len(cur) == 0 || isNull(cur) {
			return site, false, nil
		}
	}
	var top struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := utiljson.Unmarshal(cur, &top); err != nil {
		return site, false, fmt.Errorf("%s is not an object", strings.Join(path, "."))
	}
	site.hasMetadata = len(top.Metadata) > 0 && !isNull(top.Metadata)
	if len(path) == 0 {
		var pod corev1.Pod
		if err := utiljson.Unmarshal(cur, &pod); err != nil {
			return site, false, err
		}
		site.pod = &pod
		return site, true, nil
	}
	var t corev1.PodTemplateSpec
	if err := utiljson.Unmarshal(cur, &t); err != nil {
		return site, false, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	site.pod = &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	return site, true, nil
}
