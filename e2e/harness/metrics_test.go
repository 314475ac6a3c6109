package harness

import (
	"slices"
	"testing"
)

func TestSeriesKeyIsOrderIndependent(t *testing.T) {
	a := Series{"m", map[string]string{"b": "2", "a": "1"}}
	b := Series{"m", map[string]string{"a": "1", "b": "2"}}
	if a.Key() != b.Key() || a.Key() != `m{a="1",b="2"}` {
		t.Fatalf("keys %q and %q", a.Key(), b.Key())
	}
}

func TestMismatchesIsExact(t *testing.T) {
	lib := Injection("tilt-lib", "tilt-lib-v2", "2.0.1", "namespace")
	ok := Review("injected", "none")
	before := Snapshot{Values: map[string]float64{ok.Key(): 3, "other_total{}": 1}}
	after := Snapshot{Values: map[string]float64{ok.Key(): 4, lib.Key(): 1, "other_total{}": 9}}

	if bad := (Expect{}).Add(lib, 1).Add(ok, 1).Mismatches(before, after, InjectionsTotal, ReviewsTotal); len(bad) > 0 {
		t.Errorf("exact expectation reported %q", bad)
	}
	// A series the expectation does not mention must not move; an expected one must.
	bad := (Expect{}).Add(ok, 1).Add(Review("skipped", "opted_out"), 1).Mismatches(before, after, InjectionsTotal, ReviewsTotal)
	want := []string{
		`tiltlib_admission_reviews_total{reason="opted_out",result="skipped"}: delta 0, want 1`,
		`tiltlib_injections_total{component="tilt-lib",configmap="tilt-lib-v2",source="namespace",version="2.0.1"}: delta 1, want 0`,
	}
	if !slices.Equal(bad, want) {
		t.Errorf("mismatches\n got %q\nwant %q", bad, want)
	}
}
