package explain

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// ConfigMapLabels is implemented by a ConfigMaps that knows each ConfigMap's labels (the live
// modes): the distribution row reads who manages the ConfigMap a Pod mounts. Without it (offline)
// there is no such row.
type ConfigMapLabels interface {
	// Labels are the labels of ConfigMap name in namespace; false when it is not known there.
	Labels(namespace, name string) (map[string]string, bool)
}

// distributionCheck is the row of a component's ConfigMap when `webhook distribute` manages
// copies of that name in other namespaces. The Pod's own is then either a distributor's copy
// (kept equal to its source) or a same-named ConfigMap the distributor never touches: a clash
// (issue 21), whose content is whatever was last put there by hand. Ownership is
// pkg/distribute's own rule (Managed, SourceOf, Settings.Clash), the one Plan decides with.
// ok is false when there is no row: the component's ConfigMap (none when it is not mounted) is
// not in the namespace, or its labels are unknown (offline), no copy of that name is managed elsewhere, or
// the namespace is a source namespace.
func distributionCheck(in Input, c mutate.Component, cd ComponentDecision) (Check, bool) {
	lc, known := in.ConfigMaps.(ConfigMapLabels)
	if !known {
		return Check{}, false
	}
	ns, name, prefix := in.Subject.Namespace, cd.ConfigMap, in.Options.AnnotationPrefix
	own, known := lc.Labels(ns, name)
	if !known { // absent from the namespace: the configmap row says so
		return Check{}, false
	}
	copies := map[string]int{} // source namespace -> how many namespaces hold its copy
	for _, other := range in.ConfigMaps.Namespaces(name) {
		if other == ns {
			continue
		}
		l, _ := lc.Labels(other, name)
		if src := distribute.SourceOf(prefix, l); src != "" {
			copies[src]++
		}
	}
	if _, isSource := copies[ns]; len(copies) == 0 || isSource {
		return Check{}, false
	}
	sources := make([]string, 0, len(copies))
	for src := range copies {
		sources = append(sources, src)
	}
	slices.Sort(sources)
	ch := Check{Layer: c.Name + suffixDistribution,
		Description: "the " + c.Name + " ConfigMap is the distributor's copy (webhook distribute), not a same-named one it never writes"}
	cur := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: own}}
	for _, src := range sources {
		if (distribute.Settings{Prefix: prefix, SourceNamespace: src}).Clash(cur) != "" {
			continue
		}
		ch.Result = OK
		if distribute.SourceOf(prefix, own) == "" {
			ch.Detail = fmt.Sprintf("%s in %s is adopted (%s=%s): the distributor writes %s/%s's content into it on its next pass", name, ns, distribute.ManagedByLabel, distribute.ManagedBy, src, name)
		} else {
			ch.Detail = fmt.Sprintf("%s in %s is the distributor's copy of %s/%s", name, ns, src, name)
		}
		return ch, true
	}
	src := sources[0]
	reason := (distribute.Settings{Prefix: prefix, SourceNamespace: src}).Clash(cur)
	ch.Result = Warning
	// Explain does not know the distributor's --namespace-selector: the row says what holds if
	// this namespace is a target, which is when the distributor reports the clash too.
	ch.Detail = fmt.Sprintf("clash: %s; the distributor copies %s/%s into %d other namespace(s), and never writes this one: it does not follow the source", reason, src, name, copies[src])
	adopt := fmt.Sprintf("kubectl label configmap %s -n %s %s=%s", name, ns, distribute.ManagedByLabel, distribute.ManagedBy)
	if other := distribute.SourceOf(prefix, own); other != "" {
		adopt = fmt.Sprintf("kubectl label --overwrite configmap %s -n %s %s%s=%s", name, ns, prefix, distribute.KeySourceNamespace, src)
	}
	ch.Hint = fmt.Sprintf("to let the distributor keep it equal to %s/%s, adopt it by labelling it: %s (when %s is one of its --namespace-selector targets, it then replaces the data with the source's)", src, name, adopt, ns)
	return ch, true
}
