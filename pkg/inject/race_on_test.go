//go:build race

package inject

// raceEnabled: the race detector slows byte-crunching tests tenfold; those that only measure a
// size bound (no concurrency to check) skip under it and run in the plain `go test`.
const raceEnabled = true
