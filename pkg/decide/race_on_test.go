//go:build race

package decide_test

// raceEnabled: under -race, sync.Pool drops what is put back on purpose, so allocation counts
// measure the race detector, not the code.
const raceEnabled = true
