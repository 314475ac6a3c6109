package mutate

import (
	corev1 "k8s.io/api/core/v1"
)

// NoneLabel is the value of a version label for a component the webhook did not mount. The
// webhook owns its labels and always writes them, so a Pod cannot keep a forged version label.
const NoneLabel = "none"

// recordOf returns the injected record of the carried components; nil when none is carried.
func recordOf(cs []corev1.Container, plans []componentPlan) *Record {
	rec := Record{Components: make([]RecordEntry, 0, len(plans))}
	carries := make(map[int]bool)
	for _, pl := range plans {
		if !pl.carried() {
			continue
		}
		rc := RecordComponent{ConfigMap: pl.ConfigMap, Version: pl.Version, Source: pl.Source}
		if ro := pl.Rollout; ro.Name != "" {
			rc.Rollout = &RecordRollout{Name: ro.Name, Arm: ro.Arm, Bucket: ro.Bucket, Threshold: ro.Threshold}
		}
		rec.Components = append(rec.Components, RecordEntry{pl.Name, rc})
		for _, i := range pl.carriers {
			carries[i] = true
		}
	}
	if len(rec.Components) == 0 {
		return nil
	}
	rec.Containers = []string{}
	for i := range cs {
		if carries[i] {
			rec.Containers = append(rec.Containers, cs[i].Name)
		}
	}
	return &rec
}

// ownAnnotations sets the status annotation and the injected record, or removes an injected
// annotation the Pod brought itself when nothing is recorded: the webhook owns both keys.
//
// The API server rejects a Pod whose annotations (keys plus values) exceed MaxAnnotationsBytes,
// even under failurePolicy Ignore, so the patch must never be what pushes them over:
//
//	everything fits:                   status and record written
//	only the status fits:              record not written (annotations_too_large)
//	not even the status fits:          neither written (annotations_too_large)
//
// A key not written is removed if the Pod carries it, so a stale value never survives; with the
// key absent the second pass decides the same, so this stays idempotent.
func ownAnnotations(p *patch, keys ownedKeys, have map[string]string, status string, rec *Record, fs *findings) {
	statusKey, injectedKey := keys.status, keys.injected
	want := map[string]string{statusKey: status}
	if rec != nil {
		b, _ := rec.MarshalJSON() // strings only: cannot fail
		want[injectedKey] = string(b)
	}
	others := 0
	for k, v := range have {
		if k != statusKey && k != injectedKey {
			others += len(k) + len(v)
		}
	}
	size := func(k string) int {
		if v, ok := want[k]; ok {
			return len(k) + len(v)
		}
		return 0
	}
	switch {
	case others+size(statusKey) > MaxAnnotationsBytes:
		fs.add(ReasonAnnotationsTooLarge, "", "the %s and %s annotations were not written: the pod's annotations would exceed the API server's limit of %d bytes",
			statusKey, injectedKey, MaxAnnotationsBytes)
		want = nil
	case others+size(statusKey)+size(injectedKey) > MaxAnnotationsBytes:
		fs.add(ReasonAnnotationsTooLarge, "", "the %s annotation (%d bytes) was not written: the pod's annotations would exceed the API server's limit of %d bytes",
			injectedKey, size(injectedKey), MaxAnnotationsBytes)
		delete(want, injectedKey)
	}
	order := []string{statusKey, injectedKey}
	p.setKeys("/metadata/annotations", have, order, want)
	p.removeKeys("/metadata/annotations", have, order, want)
}

// ownLabels sets every component's two labels: the version label, the ConfigMap the Pod mounts
// (what the adoption gauge reads), and the requested-version label, the version the Pod asked for
// (they differ after a fallback); NoneLabel for both of a component not mounted.
func ownLabels(p *patch, keys ownedKeys, have map[string]string, plans []componentPlan) {
	order := make([]string, 0, 2*len(keys.version))
	want := make(map[string]string, 2*len(keys.version))
	for i, k := range keys.version {
		req := keys.requested[i]
		order, want[k], want[req] = append(order, k, req), NoneLabel, NoneLabel
		// plans, when there are any, are in component order.
		if i < len(plans) && plans[i].carried() {
			want[k], want[req] = plans[i].Label, plans[i].Requested
		}
	}
	p.setKeys("/metadata/labels", have, order, want)
}
