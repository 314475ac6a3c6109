package mutate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Trace records the steps of one decision, in the order Mutate takes them, for `webhook
// explain` (pkg/explain): which levels of the precedence chain were tried and why each was taken
// or skipped, aliases, rollouts, ConfigMap existence and fallback, target containers, conflicts.
// Admission passes none: every recording site is behind a nil check, so a nil Trace costs no
// allocation (the benchmarks and allocation tests of pkg/mutate and pkg/review pin it).
type Trace struct {
	Steps []Step
	// Conclusion is what the steps led to: the Result's status and each component's choice. A
	// test holds it equal to the Result and the record on every golden case and fuzz seed.
	Conclusion Conclusion
}

// Step is one step of a decision.
type Step struct {
	// Component is the component the step is about; empty for the whole Pod.
	Component string `json:"component,omitempty"`
	// Kind says what was decided: one of the Step* constants.
	Kind string `json:"kind"`
	// Taken: this step decided (a level chosen, an opt-out applied); false for one tried and
	// skipped.
	Taken  bool   `json:"taken"`
	Detail string `json:"detail"`
}

// Step kinds.
const (
	StepOverrideLock = "override lock"
	StepOptOut       = "opt-out"
	StepTargets      = "targets"
	StepLevel        = "level"
	StepAlias        = "alias"
	StepConfigMap    = "configmap"
	StepFallback     = "fallback"
	StepRollout      = "rollout"
	StepConflict     = "conflict"
)

// Conclusion is the outcome of a traced decision.
type Conclusion struct {
	// Status is the status annotation: "injected" or "skipped:<reason>".
	Status string `json:"status"`
	// Components are the decided components, in table order; none when the Pod was opted out or
	// has no target container.
	Components []TracedChoice `json:"components"`
}

// TracedChoice is one component's choice and whether the Pod carries it.
type TracedChoice struct {
	Component string `json:"component"`
	Choice
	Carried bool `json:"carried"`
}

// add appends a step; callers check t != nil first, so admission never formats (or boxes) the
// arguments.
func (t *Trace) add(component, kind string, taken bool, format string, args ...any) {
	t.Steps = append(t.Steps, Step{Component: component, Kind: kind, Taken: taken, Detail: fmt.Sprintf(format, args...)})
}

// conclude records the outcome.
func (t *Trace) conclude(status string, plans []componentPlan) {
	t.Conclusion = Conclusion{Status: status}
	for _, pl := range plans {
		t.Conclusion.Components = append(t.Conclusion.Components, TracedChoice{Component: pl.Name, Choice: pl.Choice, Carried: pl.carried()})
	}
}

// tracePolicy records the override lock and the opt-out, quoting the findings that decided them.
func tracePolicy(t *Trace, o Options, forbidden, out bool, fs findings) {
	lock := "Pod values allowed (namespace " + o.AnnotationPrefix + KeyAllowPodOverride + " unset or \"true\")"
	if forbidden {
		lock = "namespace sets " + o.AnnotationPrefix + KeyAllowPodOverride + ": Pod values are ignored"
	}
	t.add("", StepOverrideLock, forbidden, "%s", lock)
	detail := "not opted out"
	for _, f := range fs {
		if f.Reason == ReasonOptedOut {
			detail = f.Message
		}
	}
	t.add("", StepOptOut, out, "%s", detail)
}

// traceTargets records the target containers.
func traceTargets(t *Trace, pod *corev1.Pod, idx []int) {
	if len(idx) == 0 {
		t.add("", StepTargets, false, "no target container: nothing injected")
		return
	}
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = pod.Spec.Containers[j].Name
	}
	t.add("", StepTargets, true, "target containers: %s", strings.Join(names, ", "))
}
