package versions

import (
	"errors"
	"testing"
)

// TestLiveApply: absent at start is the empty document (Ready); a good document is served; an
// invalid one keeps the last good; a deletion while running keeps the last good; the same
// document again is Unchanged.
func TestLiveApply(t *testing.T) {
	l := NewLive(options())
	if l.Ready() {
		t.Fatal("Ready before the document's first state is known")
	}
	step := func(data string, present bool, want Outcome, hash string) {
		t.Helper()
		got, err := l.Apply([]byte(data), present)
		if got != want || (want == KeptInvalid) != (err != nil) {
			t.Fatalf("Apply(%q, %v) = %v, %v; want %v", data, present, got, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("error does not wrap ErrInvalid: %v", err)
		}
		if !l.Ready() {
			t.Fatal("not Ready with a good snapshot")
		}
		if hash != "" && l.Load().Hash != hash {
			t.Fatalf("serving %s, want %s", l.Load().Hash, hash)
		}
	}
	step("", false, Served, EmptyHash)
	if l.Load().Aliases["flagged"] != "v1" {
		t.Errorf("empty snapshot aliases %v, want the flags'", l.Load().Aliases)
	}
	step("aliases: {stable: v2}\n", true, Served, "")
	good := l.Load()
	if good.Aliases["stable"] != "v2" || good.Hash == EmptyHash {
		t.Fatalf("good snapshot %v", good)
	}
	step("aliases: {stable: v2}\n", true, Unchanged, good.Hash)
	step("aliases: {stable: v2}\nbogus: 1\n", true, KeptInvalid, good.Hash)
	step("", false, KeptDeleted, good.Hash)
	step("aliases: {stable: v3}\n", true, Served, "")
	if l.Load().Aliases["stable"] != "v3" || good.Aliases["stable"] != "v2" {
		t.Errorf("new snapshot %v; the old one changed: %v", l.Load().Aliases, good.Aliases)
	}
}

// TestLiveInvalidAtStartIsNotReady: a replica whose first document is invalid never serves: not
// Ready until a good document comes (then Ready); a deletion then keeps that one.
func TestLiveInvalidAtStartIsNotReady(t *testing.T) {
	l := NewLive(options())
	if out, err := l.Apply([]byte("rollouts: [{name: r, from: nope, to: v3, percent: \"1\"}]\n"), true); out != KeptInvalid || err == nil {
		t.Fatalf("Apply = %v, %v", out, err)
	}
	if l.Ready() {
		t.Fatal("Ready with an invalid document from the start")
	}
	if _, err := l.Apply(nil, false); err != nil || l.Ready() {
		// Deleted after an invalid start: absent is empty only as the FIRST state; the replica
		// stays unready rather than serving versions nobody wrote.
		t.Fatalf("after deletion: err %v, ready %v", err, l.Ready())
	}
	if out, err := l.Apply([]byte("aliases: {stable: v2}\n"), true); out != Served || err != nil || !l.Ready() {
		t.Fatalf("a good document: %v, %v, ready %v", out, err, l.Ready())
	}
}
