package explain

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/explain -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./pkg/explain -update rewrites it):\n%s", path, got)
	}
}

// fullReport has a row of every kind: a live registration, a ConfigMap that clashes with the
// distributor's copies, an admitted Pod running an older choice, and the deployed webhook's dry
// run.
func fullReport(t *testing.T) []Report {
	in := clashInput(map[string]string{"version": "2.0.1"})
	in.Webhook = liveWebhook()
	old := in.Options
	old.Aliases = map[string]string{"stable": "default"}
	in = recordedPod(t, in, old, registered.Add(time.Hour))
	in.Server = &Server{Pod: recordedPod(t, baseInput(), baseInput().Options, registered).Pod}
	created := explainOK(t, in)

	gone := baseInput()
	gone.Subject = Subject{Kind: "deployment", Namespace: "team-a", Name: "coder-bob"}
	gone.Pod.Labels = nil
	gone.ConfigMaps = lookup{"default/tilt-lib-v2": "2.0.1"}
	return []Report{created, explainOK(t, gone)}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, fullReport(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.txt", b.Bytes())
}

// The JSON form is a documented schema (docs/design.md): its golden file is the contract, and
// every documented key is present.
func TestJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, fullReport(t), true); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.json", b.Bytes())

	var out map[string]any
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var ks []string
		for k := range m.(map[string]any) {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	rep := out["reports"].([]any)[0].(map[string]any)
	for _, tt := range []struct {
		what string
		obj  any
		want []string
	}{
		{"top", out, []string{"exitCode", "reports", "schemaVersion"}},
		{"report", rep, []string{"checks", "decision", "recorded", "subject"}},
		{"check with a hint", rep["checks"].([]any)[len(rep["checks"].([]any))-2], []string{"description", "detail", "hint", "layer", "result"}},
		{"decision", rep["decision"], []string{"components", "containers", "selected", "status", "steps"}},
		{"step", rep["decision"].(map[string]any)["steps"].([]any)[0], []string{"detail", "kind", "taken"}},
		{"component step", rep["decision"].(map[string]any)["steps"].([]any)[3], []string{"component", "detail", "kind", "taken"}},
		{"component", rep["decision"].(map[string]any)["components"].([]any)[0], []string{"component", "configMap", "exists", "label", "mounted", "requested", "source", "version"}},
		{"recorded", rep["recorded"], []string{"record", "status"}},
	} {
		if got := keys(tt.obj); !slices.Equal(got, tt.want) {
			t.Errorf("%s keys %v, want %v", tt.what, got, tt.want)
		}
	}
	if out["exitCode"].(float64) != ExitError || out["schemaVersion"].(float64) != SchemaVersion {
		t.Errorf("exitCode %v schemaVersion %v", out["exitCode"], out["schemaVersion"])
	}
	// The record is the webhook's own JSON (mutate.Record), not a copy of it.
	rec := rep["recorded"].(map[string]any)["record"].(map[string]any)
	if rec["tilt-lib"].(map[string]any)["configMap"] != "tilt-lib" || rec["containers"].([]any)[0] != "dev" {
		t.Errorf("recorded record: %v", rec)
	}
	_ = mutate.Record{}
}
