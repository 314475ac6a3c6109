package adoption

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// RolloutWorkspaces is the metric name of the rollout gauge.
const RolloutWorkspaces = "tiltlib_rollout_workspaces"

const rolloutWorkspacesHelp = "Live workspace Pods by the rollout their injected record names (only rollouts of the versions document in force), component and where they stand: canary, baseline, pending (baseline now, a restart gives the canary), reverted (canary now, a restart gives the baseline), no_key (no workspace key: stays on the baseline), unavailable (the canary's ConfigMap was missing: stays on the baseline). Every arm of every rollout in force has a series, 0 when empty. Every replica exports the same values: aggregate with max across replicas."

// Versions serves the versions document in force (a *versions.Live in the server).
type Versions interface {
	Load() *versions.Snapshot
}

// arms are the label values of tiltlib_rollout_workspaces: pkg/rollout's fixed set.
var arms = []rollout.Arm{rollout.ArmCanary, rollout.ArmBaseline, rollout.ArmPending, rollout.ArmReverted, rollout.ArmNoKey, rollout.ArmUnavailable}

// trimmedRollouts is the one annotation a trimmed Pod keeps, and only when its injected record
// names a rollout: "<component>/<rollout>/<arm>" per component, comma-separated. Component and
// rollout names are DNS labels and the arm a word of a fixed set (anything else is dropped when
// trimming), so neither separator can occur inside a field. The full record (~200 bytes of JSON)
// is not kept: a scrape would parse 10,000 of them.
const trimmedRollouts = "rollouts"

// recordedRollout is one component's rollout entry of a Pod's injected record.
type recordedRollout struct {
	component, rollout string
	arm                rollout.Arm
}

// trimRollouts returns what a trimmed Pod keeps of its injected record's rollout entries (the
// trimmedRollouts value; "" when it names none, or names only what no series may carry: an unknown
// component, a rollout name that is not a DNS label of at most versions.MaxRolloutName characters,
// an arm outside the fixed set). A record only the webhook writes, but a Pod admitted while the
// webhook was down carries whatever its author wrote.
func (s Settings) trimRollouts(annotations map[string]string) string {
	raw, ok := annotations[s.Options.AnnotationPrefix+mutate.KeyInjected]
	if !ok || !strings.Contains(raw, `"rollout"`) {
		return "" // most Pods: no parse at all
	}
	var rec mutate.Record
	if rec.UnmarshalJSON([]byte(raw)) != nil {
		return ""
	}
	var b strings.Builder
	for _, e := range rec.Components {
		ro := e.Rollout
		if ro == nil || !s.known(e.Component) || len(ro.Name) > versions.MaxRolloutName ||
			len(validation.IsDNS1123Label(ro.Name)) > 0 || !slices.Contains(arms, rollout.Arm(ro.Arm)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.Component + "/" + ro.Name + "/" + string(ro.Arm))
	}
	return b.String()
}

// known reports whether name is a row of the component table.
func (s Settings) known(name string) bool {
	return slices.ContainsFunc(s.Options.Components, func(c mutate.Component) bool { return c.Name == name })
}

// keepForRollouts fills the trimmed meta of a Pod whose record names a rollout: the trimmed
// entries, and what decides its arm now (rollout.Assign: its generateName and the key labels).
func keepForRollouts(trimmed *metav1.ObjectMeta, orig *metav1.ObjectMeta, entries string) {
	trimmed.Annotations = map[string]string{trimmedRollouts: entries}
	trimmed.GenerateName = strings.Clone(orig.GenerateName)
	for _, k := range []string{rollout.LabelWorkspaceID, rollout.LabelUserID} {
		if v, ok := orig.Labels[k]; ok {
			if trimmed.Labels == nil {
				trimmed.Labels = make(map[string]string, 2)
			}
			trimmed.Labels[k] = strings.Clone(v)
		}
	}
}

// eachTrimmed calls fn for each entry of a trimmedRollouts value, allocating nothing (a scrape
// reads two entries of each of 10,000 Pods).
func eachTrimmed(v string, fn func(recordedRollout)) {
	for v != "" {
		var e string
		e, v, _ = strings.Cut(v, ",")
		comp, rest, ok1 := strings.Cut(e, "/")
		name, arm, ok2 := strings.Cut(rest, "/")
		if ok1 && ok2 {
			fn(recordedRollout{comp, name, rollout.Arm(arm)})
		}
	}
}

// rolloutSeries is one series of tiltlib_rollout_workspaces.
type rolloutSeries struct {
	rollout, component string
	arm                rollout.Arm
}

// countRollouts tallies tiltlib_rollout_workspaces over pods (trimmed) against the snapshot in
// force, ours being our ConfigMaps by namespace and name. Every arm of every component of every
// rollout in force starts at 0, so a share is 0 rather than absent; a Pod whose recorded rollout
// is not in force is not counted (label values come from the document, never from a Pod).
//
// Where a Pod stands is rollout.Standing of the arm recorded at its creation and the arm a
// restart would run now (runsNow).
func (c *Collector) countRollouts(pods []metav1.PartialObjectMetadata, ours map[nsName]string) map[rolloutSeries]int {
	if c.settings.Versions == nil {
		return nil
	}
	snap := c.settings.Versions.Load()
	if len(snap.Moves) == 0 {
		return nil
	}
	inForce := make(map[string]*mutate.Rollout, len(snap.Moves))
	counts := map[rolloutSeries]int{}
	for i := range snap.Moves {
		r := &snap.Moves[i]
		inForce[r.Name] = r
		for _, comp := range c.settings.components() {
			if moves(r, comp.name) {
				for _, a := range arms {
					counts[rolloutSeries{r.Name, comp.name, a}] = 0
				}
			}
		}
	}
	comps := map[string]component{}
	for _, comp := range c.settings.components() {
		comps[comp.name] = comp
	}
	for i := range pods {
		p := &pods[i]
		v, ok := p.Annotations[trimmedRollouts]
		if !ok {
			continue
		}
		eachTrimmed(v, func(e recordedRollout) {
			r := inForce[e.rollout]
			comp, known := comps[e.component]
			if r == nil || !known {
				return
			}
			counts[rolloutSeries{r.Name, e.component, rollout.Standing(e.arm, runsNow(r, comp, p, ours))}]++
		})
	}
	return counts
}

// runsNow is the arm a restart of p would run for comp under r: canary when r moves comp in p's
// namespace, p's key is in the canary, and the canary's ConfigMap exists there; baseline
// otherwise (a baseline Pod, one without a key, one whose canary ConfigMap is missing: all run the
// baseline). The namespace's annotations are not read again: a Pod that reached its version
// through r's alias is taken to reach it so again.
func runsNow(r *mutate.Rollout, comp component, p *metav1.PartialObjectMetadata, ours map[nsName]string) rollout.Arm {
	if !moves(r, comp.name) || !r.Spec.Applies(p.Namespace) {
		return rollout.ArmBaseline
	}
	if rollout.Assign(r.Spec, p.Namespace, p.Name, p.GenerateName, p.Labels).Arm != rollout.ArmCanary {
		return rollout.ArmBaseline
	}
	if _, ok := ours[nsName{p.Namespace, configMapOf(comp, r.To)}]; !ok {
		return rollout.ArmBaseline
	}
	return rollout.ArmCanary
}

// configMapOf is the ConfigMap of comp's version v ("default" is the unversioned one), as resolve
// maps a version label.
func configMapOf(comp component, v string) string {
	if v == mutate.DefaultVersionName {
		return comp.base
	}
	return comp.base + "-" + v
}

// moves reports whether r moves component: its list, or every component when it has none (the
// rule pkg/mutate's decision applies).
func moves(r *mutate.Rollout, component string) bool {
	return len(r.Components) == 0 || slices.Contains(r.Components, component)
}
