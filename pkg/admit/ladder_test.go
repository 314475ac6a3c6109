package admit

// ladder is the size ladder of the benchmarks: review bodies of about 2, 6, 18, 30 (with
// managedFields) and 89 KB, built from realistic Coder workspace Pods.
var ladder = []struct {
	name  string
	shape shape
	// minKB and maxKB bound the review body, so the ladder stays what its names say.
	minKB, maxKB int
}{
	{"2KB", shape{}, 1, 3},
	{"6KB", shape{env: 40, volumes: 4}, 5, 7},
	{"18KB", shape{sidecars: 3, env: 40, volumes: 8}, 16, 20},
	{"30KB-managedFields", shape{sidecars: 1, env: 40, volumes: 6, managedFields: true}, 27, 33},
	{"89KB", shape{sidecars: 7, env: 112, volumes: 40}, 84, 94},
}
