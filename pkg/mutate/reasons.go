package mutate

// Reason is a bounded, machine-readable explanation; it appears in the status annotation
// ("skipped:<reason>"), the metric reason label, at the end of every admission warning
// ("(reason: <reason>)") and in Events. The set is closed: only the constants below exist.
type Reason string

const (
	ReasonVolumeConflict    Reason = "volume_conflict"
	ReasonMountPathConflict Reason = "mountpath_conflict"
	ReasonInvalidVersion    Reason = "invalid_version"
	ReasonConfigMapMissing  Reason = "configmap_missing"
	ReasonOptedOut          Reason = "opted_out"
	ReasonNoTargetContainer Reason = "no_target_container"
	// ReasonOverrideForbidden: a Pod value was ignored because its Namespace sets
	// allow-pod-override: "false". Not in the original design's table, but a developer whose pin
	// silently loses needs to be told why.
	ReasonOverrideForbidden Reason = "override_forbidden"
	// ReasonUnknownContainer: the containers annotation names containers the Pod does not have;
	// the named containers that exist are still injected.
	ReasonUnknownContainer Reason = "unknown_container"
	// ReasonInvalidAnnotation: an annotation value that means nothing (inject neither "true" nor
	// "false", allow-pod-override neither "true" nor "false", a containers annotation beyond its
	// limits) was ignored or read in its safe sense.
	ReasonInvalidAnnotation Reason = "invalid_annotation"
	// ReasonTooManyContainers: only the first MaxContainers containers are considered.
	ReasonTooManyContainers Reason = "too_many_containers"
	// ReasonAnnotationsTooLarge: writing the injected record (or even the status) would push the
	// Pod's annotations over the API server's total size limit, so it was not written.
	ReasonAnnotationsTooLarge Reason = "annotations_too_large"
	// ReasonEnvboxMountsUntouched: an envbox container's CODER_MOUNTS comes from valueFrom, is
	// not what envbox reads, or maps our mount path to another source; it was left alone (or our
	// item for that component not added), so envbox's inner container does not see the component.
	// The outer container still mounts it.
	ReasonEnvboxMountsUntouched Reason = "envbox_mounts_untouched"
	// ReasonWarningsTruncated ends the one summary warning that stands for the warnings beyond
	// MaxWarnings. It is never a Finding, a status or a metric label.
	ReasonWarningsTruncated Reason = "warnings_truncated"
	// ReasonAlreadyInjected: the Pod already carries everything; nothing was added (re-submitted
	// Pods, reinvocation). Only the outcome uses it; it is never a warning.
	ReasonAlreadyInjected Reason = "already_injected"
	// ReasonRolloutCanary: a rollout put this workspace in its canary (routine: the warning tells
	// the developer how to stay on the baseline).
	ReasonRolloutCanary Reason = "rollout_canary"
	// ReasonRolloutNoKey: a rollout applies, but the Pod has neither the rollout's key label nor a
	// name of its own, so it has no stable bucket and stays on the baseline.
	ReasonRolloutNoKey Reason = "rollout_no_key"
	// ReasonNone is the metric label of a clean injection.
	ReasonNone Reason = "none"
)

// skips are the reasons that can leave a Pod with nothing injected, in the order the status
// annotation prefers them. The other reasons never stop an injection on their own.
var skips = []Reason{ReasonOptedOut, ReasonNoTargetContainer, ReasonVolumeConflict, ReasonMountPathConflict}

// Trivial reports whether r is expected, routine behaviour that needs no Event.
//
// unknown_container, invalid_annotation, too_many_containers and annotations_too_large are not
// trivial: like invalid_version they are a mistake in what a developer or platform engineer wrote,
// and the warning reaches only whoever created the Pod (often a controller, whose warnings nobody
// reads), so the Event in the namespace is how the owner learns about it. Events are rate-limited per
// namespace, reason and component, so this cannot flood.
func (r Reason) Trivial() bool {
	return r == ReasonOptedOut || r == ReasonAlreadyInjected || r == ReasonNone || r == ReasonRolloutCanary
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
	// SourceRollout: a rollout's canary replaced the choice of its alias.
	SourceRollout Source = "rollout"
)
