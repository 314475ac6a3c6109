//go:build e2e

package e2e

import (
	"context"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// promRollout is the scenario document's one rollout.
const promRollout = "tilt-lib-v3"

// ownRollout is one replica's rollout gauges: its target and, per component, Pods per arm.
type ownRollout struct {
	percent float64
	arms    map[string]map[rollout.Arm]float64
}

// scrapeRollout reads the scenario rollout's gauges from one replica; every arm of both components
// must be exported.
func scrapeRollout(t *testing.T, w *harness.Webhook) ownRollout {
	t.Helper()
	sn, err := harness.Scrape(context.Background(), w.MetricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	own := ownRollout{percent: sn.Get(harness.Series{Name: rolloutPercentMetric, Labels: map[string]string{"rollout": promRollout}}),
		arms: map[string]map[rollout.Arm]float64{}}
	for _, c := range []string{"tilt-lib", "tilt-templates"} {
		own.arms[c] = map[rollout.Arm]float64{}
		for _, a := range rolloutArms {
			k := harness.Series{Name: rolloutWorkspacesMetric, Labels: map[string]string{"rollout": promRollout, "component": c, "arm": string(a)}}.Key()
			v, ok := sn.Values[k]
			if !ok {
				t.Errorf("replica %s exports no %s", w.MetricsAddr, k)
			}
			own.arms[c][a] = v
		}
	}
	return own
}

// share is 100 × the Pods in arms over every arm, as the row computes it.
func (o ownRollout) share(component string, arms ...rollout.Arm) float64 {
	var part, all float64
	for a, n := range o.arms[component] {
		all += n
		if slices.Contains(arms, a) {
			part += n
		}
	}
	return 100 * part / all
}

// testRolloutRow: the rollout namespace's workspaces, placed by the rollout at 50 % and then
// raised to 70 %, are what each replica's gauges count (canary, pending and baseline per the
// oracle, every other arm 0, tilt-templates untouched),
// and the Rollouts row evaluated by Prometheus over both replicas equals those gauges: running and
// assigned share, target, the Pods off their arm and every arm, each counted once.
func testRolloutRow(t *testing.T, s *promScenario) {
	own := scrapeRollout(t, s.sc.replicas[0])
	if other := scrapeRollout(t, s.sc.replicas[1]); other.percent != own.percent || !maps.EqualFunc(other.arms, own.arms, maps.Equal) {
		t.Errorf("the replicas disagree: %+v and %+v", own, other)
	}
	wantLib := map[rollout.Arm]float64{}
	for _, a := range rolloutArms {
		wantLib[a] = 0
	}
	wantTemplates := maps.Clone(wantLib)
	for a, n := range s.arms {
		wantLib[a] = float64(n)
	}
	if own.percent != promRolloutRaised || !maps.Equal(own.arms["tilt-lib"], wantLib) || !maps.Equal(own.arms["tilt-templates"], wantTemplates) {
		t.Fatalf("replica gauges %+v, want target %d, tilt-lib %v (the oracle's placement), tilt-templates %v", own, promRolloutRaised, wantLib, wantTemplates)
	}
	if own.share("tilt-lib", "canary", "reverted") == own.share("tilt-lib", "canary", "pending") {
		t.Fatalf("running and assigned share are both %g: the scenario cannot tell them apart", own.share("tilt-lib", "canary", "pending"))
	}

	queries, _ := dashboard(t)
	target := func(title string, index int) string {
		i := slices.IndexFunc(queries, func(q harness.PanelQuery) bool { return q.Panel == title && q.Index == index })
		if i < 0 {
			t.Fatalf("%s has no panel %q with a target %d", dashboardPath, title, index)
		}
		return harness.SubstituteVars(queries[i].Expr, s.dashboardVars(".*"))
	}
	const lib = "rollout=" + promRollout + ",component=tilt-lib"
	// The shares divide by the component's placed Pods: tilt-templates has none, so 0/0 (NaN).
	shares := func(index int) map[string]float64 {
		got := vectorValues(s.query(t, target("Rollouts: canary share against target", index)), "rollout", "component")
		if v, ok := got["rollout="+promRollout+",component=tilt-templates"]; ok && !math.IsNaN(v) {
			t.Errorf("target %d: tilt-templates share %g with no placed Pod, want none (NaN)", index, v)
		}
		delete(got, "rollout="+promRollout+",component=tilt-templates")
		return got
	}
	if got, want := shares(0), map[string]float64{lib: own.share("tilt-lib", "canary", "reverted")}; !maps.Equal(got, want) {
		t.Errorf("running share = %v, the replicas' gauges give %v", got, want)
	}
	if got, want := shares(1), map[string]float64{lib: own.share("tilt-lib", "canary", "pending")}; !maps.Equal(got, want) {
		t.Errorf("assigned share = %v, the replicas' gauges give %v", got, want)
	}
	if got, want := vectorValues(s.query(t, target("Rollouts: canary share against target", 2)), "rollout"), map[string]float64{"rollout=" + promRollout: own.percent}; !maps.Equal(got, want) {
		t.Errorf("rollout targets = %v, the replicas' gauge %v", got, want)
	}
	byArm, offArm := map[string]float64{}, map[string]float64{}
	for c, arms := range own.arms {
		for a, n := range arms {
			byArm["component="+c+",arm="+string(a)] = n
			if a != "canary" && a != "baseline" {
				offArm["component="+c+",arm="+string(a)] = n
			}
		}
	}
	if got := vectorValues(s.query(t, target("Rollouts: workspaces by arm", 0)), "component", "arm"); !maps.Equal(got, byArm) {
		t.Errorf("workspaces by arm = %v, the replicas' gauges %v", got, byArm)
	}
	if got := vectorValues(s.query(t, target("Rollouts: pending, reverted, no key, unavailable", 0)), "component", "arm"); !maps.Equal(got, offArm) {
		t.Errorf("Pods off their arm = %v, the replicas' gauges %v", got, offArm)
	}
	t.Logf("rollout %s: arms %v of %d workspaces; running %.0f %%, assigned %.0f %%, target %.0f %%", promRollout,
		s.arms, promRolloutPods, own.share("tilt-lib", "canary", "reverted"), own.share("tilt-lib", "canary", "pending"), own.percent)
}
