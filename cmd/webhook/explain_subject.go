package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// input reads the subject, its Namespace and the ConfigMaps.
func (e *liveEnv) input(ctx context.Context, f explainFlags, t target, ns string) (explain.Input, error) {
	sel, err := labels.Parse(e.cfg.WorkspaceSelector) // validated by Load
	if err != nil {
		return explain.Input{}, fmt.Errorf("--workspace-selector: %w", err)
	}
	in := explain.Input{Options: e.opts, Workspaces: sel, Webhook: e.webhook,
		Subject: explain.Subject{Kind: t.kind, Namespace: ns, Name: t.name}}
	namespace, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return in, access(err, "get", "namespaces", "", ns)
	}
	in.NamespaceAnnotations, in.NamespaceLabels = namespace.Annotations, namespace.Labels
	if in.Pod, in.Admitted, err = e.subjectPod(ctx, f, t, ns, sel); err != nil {
		return in, err
	}
	if t.kind == "namespace" {
		in.Subject.Name = ""
		pods, err := e.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return in, access(err, "list", "pods", ns, "")
		}
		for i := range pods.Items {
			in.Stragglers = append(in.Stragglers, &pods.Items[i])
		}
	}
	if e.cms, err = e.readConfigMaps(ctx); err != nil {
		return in, err
	}
	in.ConfigMaps = e.cms
	return in, nil
}

// subjectPod returns the Pod explained: the live Pod (admitted), a workload's template, or a new
// workspace Pod (for --new and a namespace).
func (e *liveEnv) subjectPod(ctx context.Context, f explainFlags, t target, ns string, sel labels.Selector) (*corev1.Pod, bool, error) {
	apps, batch := e.cs.AppsV1(), e.cs.BatchV1()
	var tmpl *corev1.PodTemplateSpec
	var err error
	get := metav1.GetOptions{}
	resource := t.kind + "s"
	switch t.kind {
	case "pod":
		p, err := e.cs.CoreV1().Pods(ns).Get(ctx, t.name, get)
		if err != nil {
			return nil, false, access(err, "get", "pods", ns, t.name)
		}
		return p, true, nil
	case "new", "namespace":
		lbls, err := keyValues("-l", f.labels)
		if err != nil {
			return nil, false, err
		}
		if len(f.labels) == 0 {
			lbls = selectorLabels(sel)
		}
		ann, err := keyValues("--annotation", f.annotations)
		if err != nil {
			return nil, false, err
		}
		return explain.PodOf(e.opts, ns, lbls, ann), false, nil
	case "deployment":
		o, gerr := apps.Deployments(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.Template
	case "statefulset":
		o, gerr := apps.StatefulSets(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.Template
	case "daemonset":
		o, gerr := apps.DaemonSets(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.Template
	case "replicaset":
		o, gerr := apps.ReplicaSets(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.Template
	case "job":
		o, gerr := batch.Jobs(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.Template
	case "cronjob":
		o, gerr := batch.CronJobs(ns).Get(ctx, t.name, get)
		err, tmpl = gerr, &o.Spec.JobTemplate.Spec.Template
	}
	if err != nil {
		group := ".apps"
		if t.kind == "job" || t.kind == "cronjob" {
			group = ".batch"
		}
		return nil, false, access(err, "get", resource+group, ns, t.name)
	}
	p := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}
	p.Namespace = ns
	return p, false, nil
}

// selectorLabels are labels that satisfy the equality requirements of a selector: the labels a
// new workspace Pod carries.
func selectorLabels(sel labels.Selector) map[string]string {
	out := map[string]string{}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			out[r.Key()] = r.Values().List()[0]
		case selection.Exists:
			out[r.Key()] = "true"
		}
	}
	return out
}

// dryRun creates the Pod with a server-side dry run: the deployed webhook decides on it, nothing
// is stored.
func (e *liveEnv) dryRun(ctx context.Context, pod *corev1.Pod, ns string) *explain.Server {
	p := &corev1.Pod{Spec: *pod.Spec.DeepCopy()}
	p.Namespace, p.GenerateName = ns, "explain-"
	p.Labels, p.Annotations = copyMap(pod.Labels), copyMap(pod.Annotations)
	// What admission or the scheduler wrote is not the creator's: a restart would not send it.
	delete(p.Annotations, e.opts.AnnotationPrefix+mutate.KeyStatus)
	delete(p.Annotations, e.opts.AnnotationPrefix+mutate.KeyInjected)
	p.Spec.NodeName = ""
	got, err := e.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return &explain.Server{Err: access(err, "create", "pods (dry run)", ns, "").Error()}
	}
	return &explain.Server{Pod: got}
}

// copyMap copies m, never nil (maps.Clone keeps nil).
func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// clusterConfigMaps are the ConfigMaps named like ours, in every namespace, that match the
// platform's marker: what the webhook's cache holds.
type clusterConfigMaps struct {
	versions map[string]map[string]string            // name -> namespace -> version label
	labels   map[string]map[string]map[string]string // name -> namespace -> labels
}

var _ explain.ConfigMapLabels = (*clusterConfigMaps)(nil)

// Labels implements explain.ConfigMapLabels: the distribution row reads who manages each.
func (c *clusterConfigMaps) Labels(namespace, name string) (map[string]string, bool) {
	l, ok := c.labels[name][namespace]
	return l, ok
}

// Version implements mutate.ConfigMapLookup.
func (c *clusterConfigMaps) Version(namespace, name string) (string, bool) {
	v, ok := c.versions[name][namespace]
	return v, ok
}

// Namespaces implements explain.ConfigMaps.
func (c *clusterConfigMaps) Namespaces(name string) []string {
	var out []string
	for ns := range c.versions[name] {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

func (e *liveEnv) readConfigMaps(ctx context.Context) (*clusterConfigMaps, error) {
	c := &clusterConfigMaps{versions: map[string]map[string]string{}, labels: map[string]map[string]map[string]string{}}
	list, err := e.cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: e.cfg.ConfigMapSelector})
	if err != nil {
		return nil, access(err, "list", "configmaps", "", "(all namespaces)")
	}
	for _, cm := range list.Items {
		if !ours(e.opts, cm.Name) {
			continue
		}
		if c.versions[cm.Name] == nil {
			c.versions[cm.Name] = map[string]string{}
			c.labels[cm.Name] = map[string]map[string]string{}
		}
		c.versions[cm.Name][cm.Namespace] = cm.Labels[e.cfg.VersionLabel]
		c.labels[cm.Name][cm.Namespace] = cm.Labels
	}
	return c, nil
}

// ours reports whether a ConfigMap is named like one the mutation may mount.
func ours(o mutate.Options, name string) bool {
	for _, base := range o.Bases() {
		if name == base || strings.HasPrefix(name, base+"-") {
			return true
		}
	}
	return false
}
