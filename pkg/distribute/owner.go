package distribute

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Who owns a ConfigMap named like ours in a target namespace. Plan decides with these, and
// `webhook explain` reads them to report a clash, so the two cannot disagree about which
// ConfigMaps the distributor writes.

// Managed reports whether labels mark a ConfigMap as a distributor's: a copy one wrote, or one a
// human adopted by adding the label.
func Managed(l map[string]string) bool { return l[ManagedByLabel] == ManagedBy }

// SourceOf is the source namespace a distributor's copy names; "" when the labels are not a
// copy's (unmanaged, or adopted by hand and not yet written).
func SourceOf(prefix string, l map[string]string) string {
	if !Managed(l) {
		return ""
	}
	return l[prefix+KeySourceNamespace]
}

// Clash says why the distributor of s.SourceNamespace never writes cur, a ConfigMap in a target
// namespace named like one of its sources; "" when it may: its own copy, or one a human adopted
// (managed-by without a source namespace).
func (s Settings) Clash(cur *corev1.ConfigMap) string {
	switch src := SourceOf(s.Prefix, cur.Labels); {
	case !Managed(cur.Labels):
		return fmt.Sprintf("a ConfigMap %s/%s without %s=%s exists; label it to let the distributor manage it", cur.Namespace, cur.Name, ManagedByLabel, ManagedBy)
	case src != "" && src != s.SourceNamespace:
		return fmt.Sprintf("ConfigMap %s/%s is the copy of source namespace %s", cur.Namespace, cur.Name, src)
	}
	return ""
}
