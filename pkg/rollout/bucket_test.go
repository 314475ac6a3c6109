package rollout

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// oracleRow is one line of testdata/buckets.tsv, computed by testdata/buckets.py from the spec.
type oracleRow struct {
	salt, key string
	bucket    int
}

func oracle(t *testing.T) []oracleRow {
	t.Helper()
	f, err := os.Open("testdata/buckets.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []oracleRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("buckets.tsv: %q: want 3 tab-separated fields", line)
		}
		b, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("buckets.tsv: %q: %v", line, err)
		}
		rows = append(rows, oracleRow{f[0], f[1], b})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 200 {
		t.Fatalf("buckets.tsv has %d rows: regenerate it with buckets.py", len(rows))
	}
	return rows
}

// TestBucketVector: the test vector, written out here so that a change to the table and
// the code together still fails.
func TestBucketVector(t *testing.T) {
	if got := Bucket("tilt-lib-v3", "00000000-0000-0000-0000-000000000001"); got != 9527 {
		t.Errorf("Bucket(tilt-lib-v3, …0001) = %d, want 9527", got)
	}
}

// TestBucketOracle: every bucket of the Python oracle (another implementation of the spec), in
// range, including an empty salt, an empty key, non-ASCII and the longest salt and key.
func TestBucketOracle(t *testing.T) {
	for _, r := range oracle(t) {
		got := Bucket(r.salt, r.key)
		if got != r.bucket {
			t.Errorf("Bucket(%.20q, %.40q) = %d, oracle %d", r.salt, r.key, got, r.bucket)
		}
		if got < 0 || got >= Buckets {
			t.Errorf("Bucket(%.20q, %.40q) = %d, outside [0, %d)", r.salt, r.key, got, Buckets)
		}
	}
}

// TestSaltReshuffles: the salt is part of the hash (and the separator keeps salt and key apart).
func TestSaltReshuffles(t *testing.T) {
	differ := 0
	for _, r := range oracle(t) {
		if r.salt == "tilt-lib-v3" && Bucket(r.salt, r.key) != Bucket("tilt-lib-v3-b", r.key) {
			differ++
		}
	}
	if differ < 190 {
		t.Errorf("a new salt moved %d of ~200 keys", differ)
	}
	if Bucket("ab", "c") == Bucket("a", "bc") {
		t.Error(`Bucket("ab", "c") == Bucket("a", "bc"): the separator is missing`)
	}
}

// TestCanaryBoundaries: 0 % holds no one, 100 % everyone, and at 10 % (basis 1000) bucket 999 is
// in and bucket 1000 out; the keys in buckets 999 and 1000 come from the oracle.
func TestCanaryBoundaries(t *testing.T) {
	rows := oracle(t)
	at := map[int]oracleRow{}
	for _, r := range rows {
		if r.bucket == 999 || r.bucket == 1000 {
			at[r.bucket] = r
		}
	}
	if len(at) != 2 {
		t.Fatalf("buckets.tsv lacks the keys of buckets 999 and 1000: %v", at)
	}
	for _, c := range []struct {
		name   string
		bucket int
		basis  int
		want   bool
	}{
		{"bucket 999 at 10%", Bucket(at[999].salt, at[999].key), 1000, true},
		{"bucket 1000 at 10%", Bucket(at[1000].salt, at[1000].key), 1000, false},
		{"bucket 0 at 0%", 0, 0, false},
		{"bucket 9999 at 100%", 9999, Buckets, true},
		{"bucket 0 at 0.01%", 0, 1, true},
		{"bucket 1 at 0.01%", 1, 1, false},
	} {
		if got := InCanary(c.bucket, c.basis); got != c.want {
			t.Errorf("%s: InCanary(%d, %d) = %v, want %v", c.name, c.bucket, c.basis, got, c.want)
		}
	}
	for _, r := range rows {
		if InCanary(r.bucket, 0) {
			t.Errorf("0%%: %q in the canary", r.key)
		}
		if !InCanary(Bucket(r.salt, r.key), Buckets) {
			t.Errorf("100%%: %q not in the canary", r.key)
		}
	}
}

// TestCanaryMonotonic: raising the percent only ever adds workspaces — the canary at each basis
// holds the canary at every lower one, for every key of the oracle and every basis.
func TestCanaryMonotonic(t *testing.T) {
	rows := oracle(t)
	for _, r := range rows {
		b := Bucket(r.salt, r.key)
		in := false
		for basis := 0; basis <= Buckets; basis++ {
			now := InCanary(b, basis)
			if in && !now {
				t.Fatalf("%q (bucket %d) in the canary below basis %d, out at it", r.key, b, basis)
			}
			in = now
		}
		if !in {
			t.Errorf("%q never joined the canary", r.key)
		}
	}
}

// TestBucketAllocatesNothing: the bucket of a key within the document's bounds is computed on the
// stack (a review that meets a rollout pays no allocation for it).
func TestBucketAllocatesNothing(t *testing.T) {
	salt, key := strings.Repeat("s", 253), "team-a/"+strings.Repeat("n", 253)
	if n := testing.AllocsPerRun(100, func() { _ = Bucket(salt, key) }); n != 0 {
		t.Errorf("Bucket allocates %v times", n)
	}
}

func BenchmarkBucket(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Bucket("tilt-lib-v3", "3f0c1b7e-8a52-4d1e-9d3c-2b6a1f4e7c90")
	}
}

// TestOracleTableIsTheScriptsOutput: buckets.tsv is what buckets.py prints (where python3 is
// installed), so the table cannot drift from its generator.
func TestOracleTableIsTheScriptsOutput(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3: the checked-in table stands")
	}
	out, err := exec.Command(py, "testdata/buckets.py").Output()
	if err != nil {
		t.Fatalf("buckets.py: %v", err)
	}
	table, err := os.ReadFile("testdata/buckets.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(table) {
		t.Error("testdata/buckets.tsv is not buckets.py's output: python3 testdata/buckets.py > testdata/buckets.tsv")
	}
}
