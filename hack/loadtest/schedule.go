package main

// Step is one measurement: an arm on a case in a round.
type Step struct {
	Round int
	Case  string
	Arm   string
}

// Schedule interleaves arms: every round runs every case, and each case runs every arm back to
// back, so a drift of the machine (another process, thermal, the cluster growing) spreads over
// all arms instead of landing on one. The arm order rotates by one each round, so no arm always
// runs first (cold) or last.
func Schedule(rounds int, cases, arms []string) []Step {
	steps := make([]Step, 0, rounds*len(cases)*len(arms))
	for r := range rounds {
		for _, c := range cases {
			for i := range arms {
				steps = append(steps, Step{Round: r, Case: c, Arm: arms[(i+r)%len(arms)]})
			}
		}
	}
	return steps
}
