package mutate

// Reason is a bounded, machine-readable explanation; it appears in the status annotation
// ("skipped:<reason>"), the metric reason label, admission warnings and Events.
type Reason string

const (
	ReasonVolumeConflict    Reason = "volume_conflict"
	ReasonMountPathConflict Reason = "mountpath_conflict"
	ReasonInvalidVersion    Reason = "invalid_version"
	ReasonConfigMapMissing  Reason = "configmap_missing"
	ReasonOptedOut          Reason = "opted_out"
	ReasonNoTargetContainer Reason = "no_target_container"
	// ReasonOverrideForbidden: a Pod pin was ignored because its Namespace sets
	// allow-pod-override: "false". Not in DESIGN.md's table, but a developer whose pin silently
	// loses needs to be told why.
	ReasonOverrideForbidden Reason = "override_forbidden"
	// ReasonAlreadyInjected: the Pod already carries everything; nothing was added (re-submitted
	// Pods, reinvocation). Only the outcome uses it; it is never a warning.
	ReasonAlreadyInjected Reason = "already_injected"
	// ReasonNone is the metric label of a clean injection.
	ReasonNone Reason = "none"
)

// skips are the reasons that can leave a Pod with nothing injected, in the order the status
// annotation prefers them.
var skips = []Reason{ReasonOptedOut, ReasonNoTargetContainer, ReasonVolumeConflict, ReasonMountPathConflict}

// Trivial reports whether r is expected, routine behaviour that needs no Event.
func (r Reason) Trivial() bool {
	return r == ReasonOptedOut || r == ReasonAlreadyInjected || r == ReasonNone
}

// Outcome is the admission-level result: "injected" or "skipped".
type Outcome string

const (
	OutcomeInjected Outcome = "injected"
	OutcomeSkipped  Outcome = "skipped"
)

// Source says which level of the precedence chain chose a ConfigMap.
type Source string

const (
	SourcePod       Source = "pod"
	SourceNamespace Source = "namespace"
	SourceDefault   Source = "default"
	SourceFallback  Source = "fallback"
)
