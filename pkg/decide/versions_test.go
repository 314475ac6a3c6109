package decide_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// versionsDecider decides, for a team-a whose Namespace pins
// tilt-lib to the alias stable and tilt-templates to the alias next.
// d.Versions is left for the caller to set: the Live needs d.Options.
func versionsDecider(t *testing.T) *decide.Decider {
	t.Helper()
	m, err := metrics.New(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	o := mutate.DefaultOptions()
	o.Aliases = map[string]string{"stable": "v1", "next": "v1"} // the flags: static defaults
	return &decide.Decider{
		Options: o, Metrics: m, Events: &fakeEvents{}, Log: logr.Discard(), ConfigMaps: mutate.AllExist{},
		Namespaces: fakeNamespaces{ann: map[string]map[string]string{"team-a": {
			o.AnnotationPrefix + mutate.KeyVersion: "stable", o.AnnotationPrefix + mutate.KeyTemplatesVersion: "next",
		}}},
	}
}

var mounted = regexp.MustCompile(`"(tilt-lib|tilt-templates)-(v[0-9]+)"`)

// mountedVersions returns the version each component's volume names in the answer's patch.
func mountedVersions(t *testing.T, a decide.Answer) map[string]string {
	t.Helper()
	b, err := json.Marshal(a.Patch)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range mounted.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestDocumentAliasesDriveDecisions: the flags' aliases serve until the document defines the
// name; then the document's version is mounted, and a later document's after that.
func TestDocumentAliasesDriveDecisions(t *testing.T) {
	d := versionsDecider(t)
	live := versions.NewLive(d.Options)
	d.Versions = live
	if _, err := live.Apply(nil, false); err != nil {
		t.Fatal(err)
	}
	pod := func() map[string]string {
		return mountedVersions(t, decideCreate(d, reviewtest.WorkspacePod(reviewtest.Shape{})))
	}
	if got := pod(); got["tilt-lib"] != "v1" || got["tilt-templates"] != "v1" {
		t.Fatalf("no document: mounted %v, want the flags' v1", got)
	}
	if _, err := live.Apply([]byte("aliases: {stable: v2}\n"), true); err != nil {
		t.Fatal(err)
	}
	if got := pod(); got["tilt-lib"] != "v2" || got["tilt-templates"] != "v1" {
		t.Fatalf("document stable=v2: mounted %v, want tilt-lib v2 (document) and tilt-templates v1 (flag)", got)
	}
	if _, err := live.Apply([]byte("aliases: {stable: v3, next: v4}\n"), true); err != nil {
		t.Fatal(err)
	}
	if got := pod(); got["tilt-lib"] != "v3" || got["tilt-templates"] != "v4" {
		t.Fatalf("document stable=v3 next=v4: mounted %v", got)
	}
	if _, err := live.Apply([]byte("aliases: {stable: v9}\nnope: 1\n"), true); err == nil {
		t.Fatal("an invalid document was accepted")
	}
	if got := pod(); got["tilt-lib"] != "v3" || got["tilt-templates"] != "v4" {
		t.Fatalf("after an invalid document: mounted %v, want the last good v3/v4", got)
	}
}

// TestSnapshotSwapDuringReviews: documents (generation n: stable vn, next vn, and a rollout of
// every workspace on next to v(n+1000)) swap while reviews run; every review mounts one
// generation for both components (tilt-lib vn through stable, tilt-templates v(n+1000) through
// next's rollout), so no decision mixed the aliases of one snapshot with the rollouts of another.
// Run with -race: the swap and the reads share no lock.
func TestSnapshotSwapDuringReviews(t *testing.T) {
	d := versionsDecider(t)
	live := versions.NewLive(d.Options)
	d.Versions = live
	if _, err := live.Apply([]byte("aliases: {stable: v1, next: v1}\n"), true); err != nil {
		t.Fatal(err)
	}
	const generations = 200
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		for n := 2; n <= generations; n++ {
			doc := fmt.Appendf(nil, "aliases: {stable: v%d, next: v%d}\nrollouts: [{name: r, from: next, to: v%d, percent: \"100\"}]\n", n, n, n+1000)
			if _, err := live.Apply(doc, true); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var reviews, changes atomic.Int64
	for range 4 {
		wg.Go(func() {
			last := ""
			for !done.Load() {
				got := mountedVersions(t, decideCreate(d, reviewtest.WorkspacePod(reviewtest.Shape{})))
				reviews.Add(1)
				first := got["tilt-lib"] == "v1" && got["tilt-templates"] == "v1" // the first document: no rollout
				if !first && !sameGeneration(got["tilt-lib"], got["tilt-templates"]) {
					t.Errorf("one review mixed two documents: %v", got)
					return
				}
				if got["tilt-lib"] != last {
					changes.Add(1)
					last = got["tilt-lib"]
				}
			}
		})
	}
	wg.Wait()
	if changes.Load() < 2 {
		t.Errorf("%d reviews saw %d documents: the swap did not overlap the reviews", reviews.Load(), changes.Load())
	}
	t.Logf("%d reviews during %d swaps saw %d document changes", reviews.Load(), generations-1, changes.Load())
}

// sameGeneration reports whether templates is lib's generation's canary: v(n+1000) for vn.
func sameGeneration(lib, templates string) bool {
	var l, tm int
	if _, err := fmt.Sscanf(lib, "v%d", &l); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(templates, "v%d", &tm); err != nil {
		return false
	}
	return l > 1 && tm == l+1000
}

// TestVersionsCostNoAllocation: deciding with the live versions document (loaded once per review)
// allocates exactly what deciding with the static flags does, and so does a document whose
// rollouts do not apply to the Pod (another alias, another namespace).
func TestVersionsCostNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	d := versionsDecider(t)
	live := versions.NewLive(d.Options)
	doc := `aliases: {stable: v1, next: v1, other: v1}
rollouts:
- {name: elsewhere, from: stable, to: v2, percent: "50", namespaces: [team-b]}
- {name: other-alias, from: other, to: v2, percent: "100"}
`
	if _, err := live.Apply([]byte(doc), true); err != nil {
		t.Fatal(err)
	}
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	allocs := func() float64 {
		return testing.AllocsPerRun(200, func() { decideCreate(d, pod.DeepCopy()) })
	}
	static := allocs()
	d.Versions = live
	if withDocument := allocs(); withDocument > static {
		t.Errorf("%.1f allocations per review with the versions document, %.1f with the flags alone", withDocument, static)
	}
}
