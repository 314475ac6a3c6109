package reviewtest

// Rung is one size of the ladder.
type Rung struct {
	Name  string
	Shape Shape
	// MinKB and MaxKB bound the review body, so the ladder stays what its names say.
	MinKB, MaxKB int
}

// Ladder is the size ladder of the benchmarks: review bodies of about 2, 6, 18, 30 (with
// managedFields) and 89 KB, built from realistic Coder workspace Pods.
var Ladder = []Rung{
	{"2KB", Shape{}, 1, 3},
	{"6KB", Shape{Env: 40, Volumes: 4}, 5, 7},
	{"18KB", Shape{Sidecars: 3, Env: 40, Volumes: 8}, 16, 20},
	{"30KB-managedFields", Shape{Sidecars: 1, Env: 40, Volumes: 6, ManagedFields: true}, 27, 33},
	{"89KB", Shape{Sidecars: 7, Env: 112, Volumes: 40}, 84, 94},
}

// RungNamed returns the rung called name; ok is false when there is none.
func RungNamed(name string) (r Rung, ok bool) {
	for _, r := range Ladder {
		if r.Name == name {
			return r, true
		}
	}
	return Rung{}, false
}
