package explain

import (
	"maps"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// copyLabels are the labels the distributor of source namespace src writes on a copy; the
// test reads the keys from pkg/distribute (their one definition).
func copyLabels(src string) map[string]string {
	return map[string]string{distribute.ManagedByLabel: distribute.ManagedBy, prefix + distribute.KeySourceNamespace: src, "version": "2.0.1"}
}

// clashInput is baseInput (team-a mounts tilt-lib-v2) with the distributor of "platform"
// keeping copies of tilt-lib-v2 in team-b and team-c, and own as the labels of team-a's.
func clashInput(own map[string]string) Input {
	in := baseInput()
	cms := maps.Clone(in.ConfigMaps.(lookup))
	cms["platform/tilt-lib-v2"], cms["team-b/tilt-lib-v2"], cms["team-c/tilt-lib-v2"] = "2.0.1", "2.0.1", "2.0.1"
	in.ConfigMaps = labelled{lookup: cms, labels: map[string]map[string]string{
		"team-a/tilt-lib-v2":   own,
		"platform/tilt-lib-v2": {prefix + distribute.KeyDistribute: "true", "version": "2.0.1"},
		"team-b/tilt-lib-v2":   copyLabels("platform"),
		"team-c/tilt-lib-v2":   copyLabels("platform"),
	}}
	return in
}

const layerLibDistribution = "tilt-lib" + suffixDistribution

func TestDistributionClash(t *testing.T) {
	for _, tt := range []struct {
		name string
		own  map[string]string
		want want
	}{
		{"a same-named ConfigMap the distributor does not manage", map[string]string{"version": "2.0.1", "owner": "team-a"},
			want{layer: layerLibDistribution, result: Warning,
				detail: []string{"clash: a ConfigMap team-a/tilt-lib-v2 without app.kubernetes.io/managed-by=tilt-lib-injector exists",
					"copies platform/tilt-lib-v2 into 2 other namespace(s), and never writes this one"},
				hint: []string{"adopt it by labelling it: kubectl label configmap tilt-lib-v2 -n team-a app.kubernetes.io/managed-by=tilt-lib-injector"}}},
		{"another source namespace's copy", copyLabels("elsewhere"),
			want{layer: layerLibDistribution, result: Warning,
				detail: []string{"clash: ConfigMap team-a/tilt-lib-v2 is the copy of source namespace elsewhere"},
				hint:   []string{"kubectl label --overwrite configmap tilt-lib-v2 -n team-a tilt-lib.platform/source-namespace=platform"}}},
		{"the distributor's own copy", copyLabels("platform"),
			want{layer: layerLibDistribution, result: OK, detail: []string{"tilt-lib-v2 in team-a is the distributor's copy of platform/tilt-lib-v2"}}},
		{"adopted by hand", map[string]string{distribute.ManagedByLabel: distribute.ManagedBy},
			want{layer: layerLibDistribution, result: OK, detail: []string{"tilt-lib-v2 in team-a is adopted", "writes platform/tilt-lib-v2's content into it"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := explainOK(t, clashInput(tt.own))
			check(t, r, tt.want)
			// The row follows the component's configmap row; the other component has none.
			for i, c := range r.Checks {
				if c.Layer == layerLibDistribution && r.Checks[i-1].Layer != "tilt-lib"+suffixConfigMap {
					t.Errorf("the distribution row follows %q", r.Checks[i-1].Layer)
				}
			}
			if hasRow(r, "tilt-templates"+suffixDistribution) {
				t.Error("a distribution row for tilt-templates, of which no copy is managed")
			}
			wantExit := ExitOK
			if tt.want.result == Warning {
				wantExit = ExitWarning
			}
			if got := ExitCode([]Report{r}, true); got != wantExit {
				t.Errorf("exit code with --strict %d, want %d", got, wantExit)
			}
		})
	}
}

// No row where the distributor is not in play for that ConfigMap, or cannot be known.
func TestDistributionNoRow(t *testing.T) {
	unmanaged := map[string]string{"version": "2.0.1"}
	for _, tt := range []struct {
		name string
		in   func() Input
	}{
		{"offline: labels unknown", func() Input {
			in := clashInput(unmanaged)
			in.ConfigMaps = in.ConfigMaps.(labelled).lookup
			return in
		}},
		{"no managed copy elsewhere", func() Input {
			in := clashInput(unmanaged)
			l := in.ConfigMaps.(labelled)
			l.labels["team-b/tilt-lib-v2"], l.labels["team-c/tilt-lib-v2"] = unmanaged, unmanaged
			return in
		}},
		{"the Pod's namespace is the source namespace", func() Input {
			in := clashInput(unmanaged)
			l := in.ConfigMaps.(labelled)
			l.labels["team-b/tilt-lib-v2"], l.labels["team-c/tilt-lib-v2"] = copyLabels("team-a"), copyLabels("team-a")
			return in
		}},
		{"the ConfigMap is absent from the namespace", func() Input {
			in := clashInput(unmanaged)
			// Mounted anyway (optional); nothing to fall back to.
			delete(in.ConfigMaps.(labelled).lookup, "team-a/tilt-lib-v2")
			delete(in.ConfigMaps.(labelled).lookup, "team-a/tilt-lib")
			return in
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := explainOK(t, tt.in()); hasRow(r, layerLibDistribution) {
				t.Errorf("a distribution row: %+v", row(t, r, layerLibDistribution))
			}
		})
	}
}
