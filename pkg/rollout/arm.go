package rollout

import "slices"

// Arm is where a workspace stands in a rollout: a metric label value from this fixed set.
type Arm string

// Arms. A review assigns canary, baseline or no_key (Assign) — or unavailable when the caller finds
// the canary's ConfigMap missing in the Pod's namespace and keeps the baseline. The live Pod
// gauges add pending and reverted (Standing).
const (
	ArmCanary      Arm = "canary"
	ArmBaseline    Arm = "baseline"
	ArmNoKey       Arm = "no_key"
	ArmUnavailable Arm = "unavailable"
	// ArmPending: on the baseline now, a restart gives it the canary (the percent was raised).
	ArmPending Arm = "pending"
	// ArmReverted: on the canary now, a restart gives it the baseline (the percent was lowered:
	// a rollback shows the canaries still running).
	ArmReverted Arm = "reverted"
)

// Spec is what of one rollout decides a Pod's arm.
type Spec struct {
	// Salt is hashed with the key (the rollout's salt, or its name).
	Salt string
	// Key is KeyWorkspace or KeyUser.
	Key string
	// Basis is the canary's share in hundredths of a percent, 0 to Buckets.
	Basis int
	// Namespaces, when not empty, are the only namespaces the rollout applies in.
	Namespaces []string
}

// Assignment is a Pod's arm in one rollout, with what decided it (the record's rollout entry).
type Assignment struct {
	Arm Arm
	// Bucket is the key's bucket; -1 with ArmNoKey.
	Bucket int
	// Threshold is the Spec's Basis: buckets below it are in the canary.
	Threshold int
}

// Applies reports whether the rollout applies in namespace (its allow-list, when it has one).
func (s Spec) Applies(namespace string) bool {
	return len(s.Namespaces) == 0 || slices.Contains(s.Namespaces, namespace)
}

// Assign places a Pod of namespace, with its name, generateName and labels: canary when its key's
// bucket is below the threshold, baseline otherwise, no_key without a key (KeyOf). Call it only
// where the rollout applies (Applies, and a choice that reached its version through the
// rollout's alias).
func Assign(s Spec, namespace, name, generateName string, labels map[string]string) Assignment {
	key, ok := KeyOf(s.Key, namespace, name, generateName, labels)
	if !ok {
		return Assignment{Arm: ArmNoKey, Bucket: -1, Threshold: s.Basis}
	}
	b := Bucket(s.Salt, key)
	if InCanary(b, s.Basis) {
		return Assignment{Arm: ArmCanary, Bucket: b, Threshold: s.Basis}
	}
	return Assignment{Arm: ArmBaseline, Bucket: b, Threshold: s.Basis}
}

// Standing is where a running Pod stands: got is the arm it was given at creation (its record),
// now the arm Assign gives it under the rollout in force. A workspace's arm changes only when its
// Pod is created, so a Pod whose arms differ shows as pending (baseline, canary next) or reverted
// (canary, baseline next); no_key and unavailable stay what they were.
func Standing(got, now Arm) Arm {
	switch {
	case got == ArmBaseline && now == ArmCanary:
		return ArmPending
	case got == ArmCanary && now == ArmBaseline:
		return ArmReverted
	}
	return got
}
