package explain

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Explain runs the webhook's decision on in.Pod and returns one row per layer, in the order the
// webhook meets them: registration, selectors, opt-out, override, each component's version and
// ConfigMap, targets, conflicts; then, for an admitted Pod, its recorded choice; for a
// namespace, its stragglers; with --server, the deployed webhook's own answer.
func Explain(in Input) (Report, error) {
	if in.Workspaces == nil {
		in.Workspaces = labels.Everything()
	}
	r := Report{Subject: in.Subject, Checks: []Check{}}
	add := func(c Check) { r.Checks = append(r.Checks, c) }
	for _, c := range registration(in) {
		add(c)
	}
	selected := true
	for _, c := range selectors(in) {
		selected = selected && c.Result != Error
		add(c)
	}
	d, res, err := decide(in.Options, in.Subject.Namespace, in.NamespaceAnnotations, in.Pod, in.ConfigMaps)
	if err != nil {
		return r, err
	}
	d.Selected = selected
	r.Decision = d
	for _, c := range decisionChecks(in, d, res) {
		add(c)
	}
	if in.Admitted {
		r.Recorded = recordedOf(in.Options, in.Pod)
		add(recordedCheck(in, d, r.Recorded))
	}
	if in.Subject.Kind == "namespace" {
		sc, err := stragglersCheck(in)
		if err != nil {
			return r, err
		}
		add(sc)
	}
	if in.Server != nil {
		add(serverCheck(in, d))
	}
	return r, nil
}

// registration is the row of the MutatingWebhookConfiguration: does it exist, what happens when
// no replica answers, how many replicas could.
func registration(in Input) []Check {
	w := in.Webhook
	if w == nil {
		return nil
	}
	c := Check{Layer: LayerRegistration, Description: "the MutatingWebhookConfiguration exists and a replica of its Service is ready"}
	if !w.Found {
		c.Result, c.Detail = Error, fmt.Sprintf("no MutatingWebhookConfiguration %s: no Pod is injected", w.Name)
		c.Hint = "install the chart (helm install tilt-lib-injector charts/tilt-lib-injector), or give --webhook-config-name"
		return []Check{c}
	}
	c.Result = OK
	c.Detail = fmt.Sprintf("%s, failurePolicy %s", w.Name, w.FailurePolicy)
	if w.Service != "" {
		c.Detail += fmt.Sprintf(", %d/%d endpoints ready", w.Ready, w.Endpoints)
		if w.Ready == 0 {
			c.Result = Error
			c.Hint = "no replica is ready: Pods are created un-injected (failurePolicy Ignore) or refused (Fail); see kubectl -n " +
				strings.SplitN(w.Service, "/", 2)[0] + " get pods and their readiness"
		}
	}
	if w.ConfigSource != "" {
		c.Detail += "; configuration from " + w.ConfigSource
	}
	return []Check{c}
}

// selectors are the rows of the three filters in front of the decision: the registration's
// namespace and object selectors (the API server's) and --workspace-selector (the webhook's).
func selectors(in Input) []Check {
	var out []Check
	if w := in.Webhook; w != nil && w.Found && w.NamespaceSelector != nil && !w.NamespaceSelector.Empty() {
		c := Check{Layer: LayerNamespaceSelector, Description: "the namespace's labels match the registration's namespaceSelector"}
		if w.NamespaceSelector.Matches(labels.Set(in.NamespaceLabels)) {
			c.Result, c.Detail = OK, fmt.Sprintf("namespace %s matches %s", in.Subject.Namespace, w.NamespaceSelector)
		} else {
			c.Result, c.Detail = Error, fmt.Sprintf("namespace %s does not match %s: the API server never calls the webhook for it", in.Subject.Namespace, w.NamespaceSelector)
			c.Hint = "label the namespace: " + missing(w.NamespaceSelector, in.NamespaceLabels)
		}
		out = append(out, c)
	}
	sels := []labels.Selector{in.Workspaces}
	if w := in.Webhook; w != nil && w.Found && w.ObjectSelector != nil && !w.ObjectSelector.Empty() {
		if w.ObjectSelector.String() != in.Workspaces.String() {
			sels = append([]labels.Selector{w.ObjectSelector}, sels...)
		}
	}
	c := Check{Layer: LayerObjectSelector, Description: "the Pod's labels select it as a workspace (registration objectSelector, --workspace-selector)", Result: OK}
	var matched, failed []string
	for _, s := range sels {
		if s.Empty() {
			continue
		}
		if s.Matches(labels.Set(in.Pod.Labels)) {
			matched = append(matched, s.String())
		} else {
			failed = append(failed, s.String())
			c.Hint = appendHint(c.Hint, missing(s, in.Pod.Labels))
		}
	}
	switch {
	case len(failed) > 0:
		c.Result = Error
		c.Detail = fmt.Sprintf("%s does not match: the webhook does not touch this Pod", strings.Join(failed, ", "))
		c.Hint = "add the label " + c.Hint + " to " + labelTarget(in.Subject)
	case len(matched) == 0:
		c.Detail = "every Pod is selected"
	default:
		c.Detail = strings.Join(matched, ", ") + " matches"
	}
	return append(out, c)
}

// labelTarget says where a missing label goes: a workload's pod template, not the Pod.
func labelTarget(s Subject) string {
	switch s.Kind {
	case "pod":
		return "the Pod's template (its owner's spec.template.metadata.labels; the Coder template's pod labels)"
	case "new", "namespace", "file":
		return "the Pod"
	}
	return s.Kind + "/" + s.Name + " spec.template.metadata.labels"
}

// missing names what a selector wants that the labels lack: "app=ws" or "has tier".
func missing(s labels.Selector, have map[string]string) string {
	reqs, _ := s.Requirements()
	var out []string
	for _, r := range reqs {
		if !r.Matches(labels.Set(have)) {
			out = append(out, r.String())
		}
	}
	return strings.Join(out, ", ")
}

func appendHint(h, more string) string {
	if h == "" {
		return more
	}
	return h + ", " + more
}

// findingsOf returns the findings of the given reasons (and, when component is not "*", of that
// component), in order.
func findingsOf(fs []mutate.Finding, component string, reasons ...mutate.Reason) []mutate.Finding {
	var out []mutate.Finding
	for _, f := range fs {
		if component != "*" && f.Component != component {
			continue
		}
		for _, r := range reasons {
			if f.Reason == r {
				out = append(out, f)
			}
		}
	}
	return out
}

func messages(fs []mutate.Finding) string {
	ms := make([]string, len(fs))
	for i, f := range fs {
		ms[i] = f.Text()
	}
	return strings.Join(ms, "; ")
}
