//go:build race

package review

// raceEnabled: under -race, sync.Pool drops a quarter of what is put back on purpose, so
// allocation counts measure the race detector, not the code.
const raceEnabled = true
