package mutate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ownVolume reports whether v, a volume carrying component c's name with a ConfigMap other than
// the one this admission chose, is the webhook's own earlier output rather than the developer's:
// a Pod pre-rendered by `webhook inject` before its namespace was pinned, or a Pod spec copied from
// a running injected Pod. Such a volume is re-decided (rewritten to this admission's ConfigMap);
// only a volume that is not ours is a conflict.
//
//	source other than a whole ConfigMap (emptyDir, secret, items):  not ours: we never write one
//	ConfigMap "<base>" or "<base>-<DNS-1123 label>" of c:          ours by name
//	ConfigMap the Pod's injected record names for c:              ours by record (a base renamed since)
//	any other ConfigMap:                                          not ours
//
// The record is read only when the name does not decide, so the admission path pays for it only on
// this rare branch. A forged record can only make the webhook rewrite the forger's own volume.
func ownVolume(o Options, c Component, v *corev1.Volume, annotations map[string]string) bool {
	cm := v.ConfigMap
	if cm == nil || len(cm.Items) > 0 || cm.Name == "" {
		return false
	}
	if cm.Name == c.Base {
		return true
	}
	if v, ok := strings.CutPrefix(cm.Name, c.Base+"-"); ok && len(validation.IsDNS1123Label(v)) == 0 {
		return true
	}
	raw, ok := annotations[o.AnnotationPrefix+KeyInjected]
	if !ok {
		return false
	}
	var rec Record
	if rec.UnmarshalJSON([]byte(raw)) != nil {
		return false // an unreadable record describes nothing
	}
	rc := rec.Component(c.Name)
	return rc != nil && rc.ConfigMap == cm.Name
}
