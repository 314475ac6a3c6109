package explain

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// recordedCheck compares what an admitted Pod got with what it would get now: the "old version
// loading" case, and the Pod the webhook never saw.
func recordedCheck(in Input, now Decision, rec *Recorded) Check {
	c := Check{Layer: LayerRecorded, Description: "what the Pod got at its creation is what a restart would give now"}
	restart := "a restart now gives " + summarize(now)
	switch {
	case rec.Status == "" && createdBefore(in):
		c.Result = Error
		c.Detail = fmt.Sprintf("created before the webhook: the Pod was created %s, %s was registered %s; nothing injected",
			stamp(in.Pod.CreationTimestamp.Time), in.Webhook.Name, stamp(in.Webhook.Registered))
		c.Hint = "restart the workspace (delete the Pod, or kubectl rollout restart its owner): " + restart
	case rec.Status == "":
		c.Result = Error
		c.Detail = "no " + in.Options.AnnotationPrefix + mutate.KeyStatus + " annotation: the webhook never saw this Pod (not selected then, or unreachable under failurePolicy Ignore)"
		c.Hint = "restart the workspace: " + restart
	case rec.Record == nil && now.Status != string(mutate.OutcomeInjected):
		c.Result, c.Detail = OK, "created "+rec.Status+", as now"
	case rec.Record == nil:
		c.Result = Warning
		c.Detail = "created " + rec.Status + "; " + restart
		c.Hint = "restart the workspace to get the library"
	case sameChoice(rec.Record, now):
		c.Result, c.Detail = OK, "created with "+recordSummary(rec.Record)+", as now"
	default:
		c.Result = Warning
		c.Detail = "created with " + recordSummary(rec.Record) + "; " + restart
		c.Hint = "old version loading: the version is chosen when the Pod is created; restart the workspace to load the new one"
	}
	return c
}

// createdBefore: the Pod predates the registration, so no admission ever reached the webhook.
// Both timestamps have a resolution of one second: an un-injected Pod created in the second of
// the registration counts as before it (the registration takes effect only after it is stored).
func createdBefore(in Input) bool {
	w := in.Webhook
	return w != nil && w.Found && !w.Registered.IsZero() && !in.Pod.CreationTimestamp.IsZero() &&
		!in.Pod.CreationTimestamp.Time.After(w.Registered)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// sameChoice: every component mounts the ConfigMap it would mount now.
func sameChoice(rec *mutate.Record, now Decision) bool {
	for _, cd := range now.Components {
		rc := rec.Component(cd.Component)
		if (rc != nil) != cd.Mounted || rc != nil && rc.ConfigMap != cd.ConfigMap {
			return false
		}
	}
	return true
}

// recordSummary: "tilt-lib 1.4.0 (tilt-lib), tilt-templates (tilt-templates-v3)".
func recordSummary(rec *mutate.Record) string {
	var parts []string
	for _, e := range rec.Components {
		s := e.Component
		if e.Version != "" {
			s += " " + e.Version
		}
		parts = append(parts, s+" ("+e.ConfigMap+")")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// summarize: what a Pod created now mounts, "tilt-lib-v2, tilt-templates", or its status.
func summarize(d Decision) string {
	var parts []string
	for _, cd := range d.Components {
		if cd.Mounted {
			parts = append(parts, cd.ConfigMap)
		}
	}
	if len(parts) == 0 {
		return d.Status
	}
	return strings.Join(parts, ", ")
}

// stragglersCheck lists the namespace's workspace Pods whose recorded choice differs from what
// a Pod created now gets.
func stragglersCheck(in Input) (Check, error) {
	c := Check{Layer: LayerStragglers, Description: "every workspace Pod of the namespace runs what a Pod created now would get"}
	var late []string
	n := 0
	for _, p := range in.Stragglers {
		if !in.Workspaces.Matches(labels.Set(p.Labels)) {
			continue
		}
		n++
		now, _, err := decide(in.Options, in.Subject.Namespace, in.NamespaceAnnotations, p, in.ConfigMaps)
		if err != nil {
			return c, fmt.Errorf("pod %s: %w", p.Name, err)
		}
		rec := recordedOf(in.Options, p)
		switch {
		case rec.Status == "":
			late = append(late, fmt.Sprintf("%s (never injected; now %s)", p.Name, summarize(now)))
		case rec.Record == nil && now.Status == string(mutate.OutcomeInjected):
			late = append(late, fmt.Sprintf("%s (%s; now %s)", p.Name, rec.Status, summarize(now)))
		case rec.Record != nil && !sameChoice(rec.Record, now):
			late = append(late, fmt.Sprintf("%s (%s; now %s)", p.Name, recordSummary(rec.Record), summarize(now)))
		}
	}
	if len(late) == 0 {
		c.Result, c.Detail = OK, fmt.Sprintf("%d workspace Pods, none behind", n)
		return c, nil
	}
	c.Result = Warning
	c.Detail = fmt.Sprintf("%d of %d workspace Pods run another choice: %s", len(late), n, strings.Join(late, "; "))
	c.Hint = "restart them to load what a new Pod gets (webhook explain pod/NAME says why each differs)"
	return c, nil
}

// serverCheck compares the deployed webhook's answer to a dry-run create with this decision.
func serverCheck(in Input, d Decision) Check {
	c := Check{Layer: LayerServer, Description: "the deployed webhook, asked through a server-side dry-run create, decides the same"}
	s := in.Server
	if s.Err != "" {
		c.Result, c.Detail = Error, "the dry run failed: "+s.Err
		c.Hint = "check the webhook's registration and logs; explain's configuration may not be the deployed one"
		return c
	}
	got := recordedOf(in.Options, s.Pod)
	want := d.Status
	switch {
	case !d.Selected && got.Status == "":
		c.Result, c.Detail = OK, "not selected by the deployed webhook either"
	case got.Status != want:
		c.Result, c.Detail = Error, fmt.Sprintf("the deployed webhook answered %s, explain decided %s", orNone(got.Status), want)
	case got.Record != nil && !sameChoice(got.Record, d):
		c.Result, c.Detail = Error, fmt.Sprintf("the deployed webhook mounted %s, explain decided %s", recordSummary(got.Record), summarize(d))
	default:
		c.Result, c.Detail = OK, "the deployed webhook answered "+want+": "+summarize(d)
	}
	if c.Result == Error {
		c.Hint = "explain's configuration differs from the deployed webhook's: compare its Deployment args (or drop --from-flags)"
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "nothing (no status annotation)"
	}
	return s
}

// PodOf is a hypothetical workspace Pod in namespace: labels and annotations as given, one
// container per default target container name.
func PodOf(o mutate.Options, namespace string, lbls, annotations map[string]string) *corev1.Pod {
	p := &corev1.Pod{}
	p.Namespace, p.Labels, p.Annotations = namespace, lbls, annotations
	names := o.Containers
	if len(names) == 0 {
		names = []string{"dev"}
	}
	for _, n := range names {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "workspace"})
	}
	return p
}
