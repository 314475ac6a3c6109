package decide

import (
	"context"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// Namespaces answers a Namespace's annotations from a cache.
type Namespaces interface {
	NamespaceAnnotations(ctx context.Context, name string) (ann map[string]string, found bool, err error)
}

// Metrics records reviews (see pkg/metrics). Every reason is a constant of the one closed set:
// mutate's, this package's (reasons.go) or pkg/review's edge.
type Metrics interface {
	Observe(mutate.Result)
	Error(reason mutate.Reason)
	Skipped(reason mutate.Reason)
}

// Events turns findings into Kubernetes Events without blocking (see pkg/events).
type Events interface {
	Emit(namespace string, findings []mutate.Finding)
}

// Decider mutates workspace Pods. All fields are required except Selector and Synced.
type Decider struct {
	Options    mutate.Options
	Namespaces Namespaces
	ConfigMaps mutate.ConfigMapLookup
	Metrics    Metrics
	Events     Events
	Log        logr.Logger
	// Selector picks the workspace Pods (serve passes --workspace-selector). A Pod it does not
	// match reached us through a webhook configuration broader than the chart's objectSelector:
	// it is allowed untouched (reason not_selected). Nil selects every Pod.
	Selector labels.Selector
	// Versions, when set, is the live versions document (pkg/versions): each review loads one
	// snapshot and decides with its aliases in place of Options.Aliases, so a document swapped
	// mid-review never mixes two documents in one decision. Nil: Options.Aliases alone.
	Versions interface{ Load() *versions.Snapshot }
	// Synced reports whether the caches behind Namespaces and ConfigMaps have synced. Until then
	// a cache read would block the review (or answer from a partial view), so the review is
	// answered at once with an error. Nil means always synced.
	Synced func() bool
}

var podResource = metav1.GroupVersionResource{Version: "v1", Resource: "pods"}

// podName is the Pod's name, else its generateName (a Pod being created often has only that),
// made safe for a log line.
func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return logValue(pod.Name)
	}
	return logValue(pod.GenerateName)
}

func (d *Decider) logResult(namespace string, pod *corev1.Pod, res mutate.Result, dryRun bool) {
	// Fallbacks, conflicts and invalid pins are worth an Info line: they are what an operator
	// greps for when a team reports the wrong tilt-lib. The rest is V(1), and when that level is
	// off the line is not even built: it would be most of a review's allocations.
	log, msg := d.Log, "admitted with findings"
	if dryRun || res.Reason == mutate.ReasonNone || res.Reason.Trivial() {
		log, msg = d.Log.V(1), "admitted"
	}
	if !log.Enabled() {
		return
	}
	// The namespace was validated as a DNS-1123 label; the Pod's names were not validated yet.
	kv := []any{"namespace", namespace, "pod", podName(pod), "status", res.Status, "reason", res.Reason, "dryRun", dryRun}
	for _, in := range res.Injected {
		// Distinct keys per component (the row's LogPrefix; tilt-lib keeps the house keys
		// version/source): JSON log parsers keep only the last of duplicate keys.
		prefix := d.Options.Component(in.Component).LogPrefix
		kv = append(kv, key(prefix, "configMap"), in.ConfigMap, key(prefix, "version"), in.Version, key(prefix, "source"), in.Source)
	}
	log.Info(msg, kv...)
}

// key joins a prefix and a log key in camelCase: ("templates", "version") -> "templatesVersion".
func key(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + strings.ToUpper(k[:1]) + k[1:]
}
