package mutate_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// mutateChecked mutates, applies the patch as the API server would, checks the invariants, the
// warnings and a second pass, and returns the result and the patched Pod.
func mutateChecked(t *testing.T, o mutate.Options, req mutate.Request) (mutate.Result, *corev1.Pod) {
	t.Helper()
	orig := mustJSON(t, req.Pod)
	res := mutate.Mutate(o, req)
	applied, err := applyOps(orig, res.Patch)
	if err != nil {
		t.Fatalf("patch does not apply: %v", err)
	}
	out := decodePod(t, applied)
	checkInvariants(t, o, decodePod(t, orig), out)
	checkWarnings(t, res)
	req.Pod = out
	if again := mutate.Mutate(o, req); len(again.Patch) != 0 {
		t.Fatalf("second pass not empty: %s", mustJSON(t, again.Patch))
	}
	return res, out
}

func reasons(res mutate.Result) []mutate.Reason {
	var rs []mutate.Reason
	for _, f := range res.Findings {
		rs = append(rs, f.Reason)
	}
	return rs
}

func recordOf(t *testing.T, p *corev1.Pod) injectedRecord {
	return planOf(t, mutate.DefaultOptions(), p).Record
}

func TestPathologicalPodStaysBounded(t *testing.T) {
	o := mutate.DefaultOptions()
	pod := pathologicalPod(20000, 150000)
	// ~1.58 MiB: a little larger than the review's 1.39 MiB Pod, under the API server's 3 MiB.
	if n := len(mustJSON(t, pod)); n < 1_400_000 || n > 3<<20 {
		t.Fatalf("pathological pod is %d bytes, want at least the review's ~1.39 MiB", n)
	}
	res, out := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: pod})
	// The annotation is over both limits: ignored, so the default target "dev" applies. (It alone
	// is over the API server's annotation limit, so no annotation of ours is added.)
	for i, c := range out.Spec.Containers {
		if mounted := len(c.VolumeMounts) == 2; mounted != (i == 0) {
			t.Fatalf("container %d %q has %d mounts; only dev should carry both", i, c.Name, len(c.VolumeMounts))
		}
	}
	want := []mutate.Reason{mutate.ReasonTooManyContainers, mutate.ReasonInvalidAnnotation, mutate.ReasonAnnotationsTooLarge}
	if !slices.Equal(reasons(res), want) {
		t.Errorf("reasons %v, want %v", reasons(res), want)
	}
}

func TestMountPathConflictsAreOneFindingPerComponent(t *testing.T) {
	o := mutate.DefaultOptions()
	for _, n := range []int{2, mutate.MaxContainers, 20000} {
		res, _ := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: conflictingPod(n)})
		var conflicts []mutate.Finding
		for _, f := range res.Findings {
			if f.Reason == mutate.ReasonMountPathConflict {
				conflicts = append(conflicts, f)
			}
		}
		considered := min(n, mutate.MaxContainers)
		if len(conflicts) != 2 || !strings.Contains(conflicts[0].Message, fmt.Sprintf("as do %d more", considered-1)) {
			t.Errorf("%d containers: mountpath findings %q, want one per component counting %d more", n, conflicts, considered-1)
		}
		if b := len(strings.Join(res.Warnings, "")); b > 2048 || res.Status != "skipped:mountpath_conflict" {
			t.Errorf("%d containers: %d bytes of warnings, status %q", n, b, res.Status)
		}
	}
}

func TestContainersAnnotationLimits(t *testing.T) {
	o := mutate.DefaultOptions()
	key := o.AnnotationPrefix + mutate.KeyContainers
	pod := func(val string) *corev1.Pod {
		p := &corev1.Pod{}
		p.Annotations = map[string]string{key: val}
		p.Spec.Containers = []corev1.Container{{Name: "dev"}, {Name: "tools"}}
		return p
	}
	names := func(n int) string { // "tools" then n-1 unknown names
		s := []string{"tools"}
		for i := 1; i < n; i++ {
			s = append(s, fmt.Sprintf("x%d", i))
		}
		return strings.Join(s, ",")
	}
	padded := func(size int) string { return "tools," + strings.Repeat(" ", size-len("tools,")) }
	for _, c := range []struct {
		name    string
		val     string
		honored bool
	}{
		{"32 names", names(mutate.MaxContainersAnnotationNames), true},
		{"33 names", names(mutate.MaxContainersAnnotationNames + 1), false},
		{"1024 bytes", padded(mutate.MaxContainersAnnotationBytes), true},
		{"1025 bytes", padded(mutate.MaxContainersAnnotationBytes + 1), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, out := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: pod(c.val)})
			got := recordOf(t, out).Containers
			ignored := slices.Contains(reasons(res), mutate.ReasonInvalidAnnotation)
			if c.honored && (!slices.Equal(got, []string{"tools"}) || ignored) {
				t.Errorf("annotation at the limit not honoured: containers %q, reasons %v", got, reasons(res))
			}
			if !c.honored && (!slices.Equal(got, []string{"dev"}) || !ignored) {
				t.Errorf("annotation over the limit not ignored: containers %q, reasons %v", got, reasons(res))
			}
		})
	}
}

func TestOnlyTheFirstMaxContainersAreConsidered(t *testing.T) {
	o := mutate.DefaultOptions()
	pod := func(n int, target string) *corev1.Pod {
		p := &corev1.Pod{}
		for i := range n {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i)})
		}
		p.Annotations = map[string]string{o.AnnotationPrefix + mutate.KeyContainers: target}
		return p
	}
	last := fmt.Sprintf("c%d", mutate.MaxContainers-1)
	res, out := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: pod(mutate.MaxContainers, last)})
	if got := recordOf(t, out).Containers; !slices.Equal(got, []string{last}) || len(res.Findings) != 0 {
		t.Errorf("%d containers: targets %q, findings %v", mutate.MaxContainers, got, res.Findings)
	}
	beyond := fmt.Sprintf("c%d", mutate.MaxContainers)
	res, _ = mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: pod(mutate.MaxContainers+1, beyond)})
	want := []mutate.Reason{mutate.ReasonTooManyContainers, mutate.ReasonNoTargetContainer}
	if !slices.Equal(reasons(res), want) || res.Status != "skipped:no_target_container" {
		t.Errorf("container beyond the limit: status %q reasons %v, want %v", res.Status, reasons(res), want)
	}
}

// TestWarningsAreCapped builds a Pod with every finding it can have at once (12 distinct ones).
func TestWarningsAreCapped(t *testing.T) {
	o := mutate.DefaultOptions()
	p := o.AnnotationPrefix
	pod := conflictingPod(mutate.MaxContainers + 1)
	pod.Annotations = map[string]string{
		p + mutate.KeyInject: "maybe", p + mutate.KeyVersion: "v3", p + mutate.KeyTemplatesVersion: "v3",
		p + mutate.KeyContainers: strings.Repeat("x,", mutate.MaxContainersAnnotationNames),
	}
	ns := map[string]string{p + mutate.KeyAllowPodOverride: "maybe", p + mutate.KeyVersion: "BAD!", p + mutate.KeyTemplatesVersion: "BAD!"}
	res, _ := mutateChecked(t, o, mutate.Request{Namespace: "team-a", NamespaceAnnotations: ns, Pod: pod, ConfigMaps: mutate.MapLookup{}})
	if len(res.Findings) <= mutate.MaxWarnings {
		t.Fatalf("only %d findings: the test no longer exceeds the cap", len(res.Findings))
	}
	more := len(res.Findings) - mutate.MaxWarnings
	wantLast := fmt.Sprintf("%s%d more warnings not shown (reason: %s)", mutate.WarningPrefix, more, mutate.ReasonWarningsTruncated)
	if len(res.Warnings) != mutate.MaxWarnings+1 || res.Warnings[mutate.MaxWarnings] != wantLast {
		t.Errorf("%d findings gave %d warnings ending %q, want %d ending %q", len(res.Findings), len(res.Warnings),
			res.Warnings[len(res.Warnings)-1], mutate.MaxWarnings+1, wantLast)
	}
}

// TestDeveloperStringsAreQuotedAndTruncated: names and values of any length reach a warning as a
// bounded, quoted, ASCII excerpt.
func TestDeveloperStringsAreQuotedAndTruncated(t *testing.T) {
	o := mutate.DefaultOptions()
	p := o.AnnotationPrefix
	long := strings.Repeat("é\x00z", 5000)
	ns := "team-" + long
	nsAnn := map[string]string{p + mutate.KeyAllowPodOverride: long}
	// A: the token container and the volume it mounts at the tilt-lib path have long names.
	a := &corev1.Pod{}
	a.Spec.Containers = []corev1.Container{{Name: "dev" + long, Env: []corev1.EnvVar{{Name: "CODER_AGENT_TOKEN"}},
		VolumeMounts: []corev1.VolumeMount{{Name: "v" + long, MountPath: lib(&o).MountPath}}}}
	a.Spec.Volumes = []corev1.Volume{{Name: "v" + long}}
	a.Annotations = map[string]string{p + mutate.KeyInject: long, p + mutate.KeyVersion: long}
	// B: the containers annotation names long unknown containers.
	b := &corev1.Pod{}
	b.Spec.Containers = []corev1.Container{{Name: "dev"}}
	b.Annotations = map[string]string{p + mutate.KeyContainers: "dev," + long[:900]}

	var got []mutate.Reason
	for _, pod := range []*corev1.Pod{a, b} {
		res, _ := mutateChecked(t, o, mutate.Request{Namespace: ns, NamespaceAnnotations: nsAnn, Pod: pod, ConfigMaps: mutate.MapLookup{}})
		got = append(got, reasons(res)...)
		for _, w := range res.Warnings {
			if len(w) > 1024 || strings.Contains(w, "zé") || strings.ContainsAny(w, "\x00é") {
				t.Errorf("warning not bounded, quoted and ASCII (%d bytes): %.300q", len(w), w)
			}
		}
	}
	for _, r := range []mutate.Reason{mutate.ReasonInvalidAnnotation, mutate.ReasonOverrideForbidden, mutate.ReasonMountPathConflict,
		mutate.ReasonConfigMapMissing, mutate.ReasonUnknownContainer} {
		if !slices.Contains(got, r) {
			t.Errorf("no %s warning to check (reasons %v)", r, got)
		}
	}
}

// TestAnnotationsNeverExceedTheAPIServerLimit fills a Pod's annotations to the byte around the
// limit; apimachinery's own validation is the oracle.
func TestAnnotationsNeverExceedTheAPIServerLimit(t *testing.T) {
	o := mutate.DefaultOptions()
	statusKey, injectedKey := o.AnnotationPrefix+mutate.KeyStatus, o.AnnotationPrefix+mutate.KeyInjected
	base := &corev1.Pod{}
	base.Spec.Containers = []corev1.Container{{Name: "dev"}}
	_, clean := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: base})
	ours := len(statusKey) + len(clean.Annotations[statusKey]) + len(injectedKey) + len(clean.Annotations[injectedKey])
	statusOnly := len(statusKey) + len(clean.Annotations[statusKey])

	const fillerKey = "example.com/filler"
	for _, c := range []struct {
		name                   string
		others                 int // bytes of the Pod's own annotations
		forged                 bool
		wantStatus, wantRecord bool
	}{
		{"everything fits exactly", apivalidation.TotalAnnotationSizeLimitB - ours, false, true, true},
		{"one byte too many for the record", apivalidation.TotalAnnotationSizeLimitB - ours + 1, false, true, false},
		{"forged record removed when ours does not fit", apivalidation.TotalAnnotationSizeLimitB - ours + 1, true, true, false},
		{"status fits exactly", apivalidation.TotalAnnotationSizeLimitB - statusOnly, false, true, false},
		{"not even the status fits", apivalidation.TotalAnnotationSizeLimitB - statusOnly + 1, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			pod := base.DeepCopy()
			pod.Annotations = map[string]string{fillerKey: strings.Repeat("x", c.others-len(fillerKey))}
			if c.forged {
				pod.Annotations[injectedKey] = `{"containers":[]}`
			}
			res, out := mutateChecked(t, o, mutate.Request{Namespace: "team-a", Pod: pod})
			if err := apivalidation.ValidateAnnotationsSize(out.Annotations); err != nil {
				t.Fatalf("patched pod rejected by the API server: %v", err)
			}
			_, hasStatus := out.Annotations[statusKey]
			_, hasRecord := out.Annotations[injectedKey]
			if hasStatus != c.wantStatus || hasRecord != c.wantRecord {
				t.Errorf("status written %v (want %v), record written %v (want %v)", hasStatus, c.wantStatus, hasRecord, c.wantRecord)
			}
			tooLarge := slices.Contains(reasons(res), mutate.ReasonAnnotationsTooLarge)
			if tooLarge == c.wantRecord || res.Status != "injected" || len(out.Spec.Volumes) != 2 {
				t.Errorf("reasons %v status %q volumes %d: the workspace must still be injected, and told when the record is dropped",
					reasons(res), res.Status, len(out.Spec.Volumes))
			}
		})
	}
}

// TestChoiceExists: the metrics rely on it to keep developer-named ConfigMaps out of labels.
func TestChoiceExists(t *testing.T) {
	o := mutate.DefaultOptions()
	pod := &corev1.Pod{}
	pod.Spec.Containers = []corev1.Container{{Name: "dev"}}
	pod.Annotations = map[string]string{o.AnnotationPrefix + mutate.KeyVersion: "v7"}
	res := mutate.Mutate(o, mutate.Request{Namespace: "team-a", Pod: pod, ConfigMaps: mutate.MapLookup{"team-a/tilt-templates": ""}})
	got := map[string]bool{}
	for _, in := range res.Injected {
		got[in.Component] = in.Exists
	}
	if want := map[string]bool{mutate.LibVolume: false, mutate.TemplatesVolume: true}; !equalMaps(got, want) {
		t.Errorf("Exists per component %v, want %v", got, want)
	}
}

func equalMaps(a, b map[string]bool) bool {
	b2, _ := json.Marshal(b)
	a2, _ := json.Marshal(a)
	return string(a2) == string(b2)
}
