package rollout

import "testing"

// TestAssign: the arm follows the oracle's bucket against the threshold; without a key, no_key.
func TestAssign(t *testing.T) {
	spec := Spec{Salt: "tilt-lib-v3", Key: KeyWorkspace, Basis: 1000}
	canaries := 0
	for _, r := range oracle(t) {
		if r.salt != spec.Salt {
			continue
		}
		a := Assign(spec, "team-a", "", "coder-", map[string]string{LabelWorkspaceID: r.key})
		want := ArmBaseline
		if r.bucket < 1000 {
			want = ArmCanary
			canaries++
		}
		if a != (Assignment{Arm: want, Bucket: r.bucket, Threshold: 1000}) {
			t.Errorf("%q (oracle bucket %d): %+v, want %s", r.key, r.bucket, a, want)
		}
	}
	if canaries == 0 {
		t.Error("no canary among the oracle's keys at 10%")
	}
	if a := Assign(spec, "team-a", "", "coder-", nil); a != (Assignment{Arm: ArmNoKey, Bucket: -1, Threshold: 1000}) {
		t.Errorf("generated name, no label: %+v", a)
	}
	// The vector's key, at 100% and 0%.
	vec := map[string]string{LabelWorkspaceID: "00000000-0000-0000-0000-000000000001"}
	if a := Assign(Spec{Salt: "tilt-lib-v3", Basis: Buckets}, "ns", "", "g-", vec); a.Arm != ArmCanary || a.Bucket != 9527 {
		t.Errorf("100%%: %+v", a)
	}
	if a := Assign(Spec{Salt: "tilt-lib-v3", Basis: 0}, "ns", "", "g-", vec); a.Arm != ArmBaseline {
		t.Errorf("0%%: %+v", a)
	}
}

func TestApplies(t *testing.T) {
	if !(Spec{}).Applies("team-a") {
		t.Error("no allow-list: applies everywhere")
	}
	s := Spec{Namespaces: []string{"team-a-dev"}}
	if !s.Applies("team-a-dev") || s.Applies("team-a") {
		t.Errorf("allow-list [team-a-dev]: team-a-dev %v, team-a %v", s.Applies("team-a-dev"), s.Applies("team-a"))
	}
}

func TestStanding(t *testing.T) {
	for _, c := range []struct{ got, now, want Arm }{
		{ArmCanary, ArmCanary, ArmCanary},
		{ArmBaseline, ArmBaseline, ArmBaseline},
		{ArmBaseline, ArmCanary, ArmPending},
		{ArmCanary, ArmBaseline, ArmReverted},
		{ArmNoKey, ArmNoKey, ArmNoKey},
		{ArmUnavailable, ArmCanary, ArmUnavailable},
	} {
		if got := Standing(c.got, c.now); got != c.want {
			t.Errorf("Standing(%s, %s) = %s, want %s", c.got, c.now, got, c.want)
		}
	}
}
