package main

import (
	"fmt"
	"slices"
	"testing"
)

func TestScheduleInterleavesAndRotates(t *testing.T) {
	got := Schedule(3, []string{"6KB", "89KB"}, []string{"a", "b", "c"})
	var order []string
	for _, s := range got {
		order = append(order, fmt.Sprintf("%d:%s:%s", s.Round, s.Case, s.Arm))
	}
	want := []string{
		"0:6KB:a", "0:6KB:b", "0:6KB:c", "0:89KB:a", "0:89KB:b", "0:89KB:c",
		"1:6KB:b", "1:6KB:c", "1:6KB:a", "1:89KB:b", "1:89KB:c", "1:89KB:a",
		"2:6KB:c", "2:6KB:a", "2:6KB:b", "2:89KB:c", "2:89KB:a", "2:89KB:b",
	}
	if !slices.Equal(order, want) {
		t.Errorf("schedule\n got %q\nwant %q", order, want)
	}
}

// Every arm runs every case exactly once per round, and no arm always goes first.
func TestScheduleCoversEveryArmOncePerCaseAndRound(t *testing.T) {
	arms := []string{"none", "empty", "constant", "ours"}
	steps := Schedule(5, []string{"x"}, arms)
	seen := map[string]int{}
	first := map[string]bool{}
	for i, s := range steps {
		seen[fmt.Sprint(s.Round, s.Case, s.Arm)]++
		if i%len(arms) == 0 {
			first[s.Arm] = true
		}
	}
	if len(steps) != 5*len(arms) || len(seen) != len(steps) {
		t.Errorf("%d steps, %d distinct: want %d of each", len(steps), len(seen), 5*len(arms))
	}
	if len(first) != len(arms) {
		t.Errorf("arms that ever ran first: %v, want all of %v", first, arms)
	}
}
