package charttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notes renders the chart's NOTES.txt with args. helm template does not print NOTES and helm install
// needs a cluster even for a client dry run, so the chart is copied with NOTES.txt beside it and a
// template that renders that very file through tpl (the helpers included), shown on its own.
func notes(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tilt-lib-injector")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(chartDir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	show := "notes: |\n{{ tpl (.Files.Get \"notes.txt\") . | indent 2 }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes.yaml"), []byte(show), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runHelm(t, append([]string{"template", releaseName, dir, "--namespace", releaseNS, "--show-only", "templates/zz-notes.yaml"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestOneReplicaNoPDB: with one replica a PodDisruptionBudget of minAvailable 1 would block every
// node drain, so none is rendered and NOTES says why and what the gap costs; two replicas keep it
// and NOTES stays quiet about it.
func TestOneReplicaNoPDB(t *testing.T) {
	const pdb = "PodDisruptionBudget/" + releaseName
	out, err := template(t, "--set", "replicaCount=1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parse(t, out)[pdb]; ok {
		t.Error("replicaCount=1 renders a PodDisruptionBudget: minAvailable 1 blocks every node drain")
	}
	out, err = template(t, "--set", "replicaCount=2")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parse(t, out)[pdb]; !ok {
		t.Error("replicaCount=2 renders no PodDisruptionBudget")
	}
	const warning = "replicaCount is 1: no PodDisruptionBudget"
	if n := notes(t, "--set", "replicaCount=1"); !strings.Contains(n, warning) || !strings.Contains(n, "without tilt-lib") {
		t.Errorf("NOTES with one replica do not warn:\n%s", n)
	}
	if n := notes(t, "--set", "replicaCount=1", "--set", "webhook.failurePolicy=Fail"); !strings.Contains(n, "not at all (failurePolicy Fail)") {
		t.Errorf("NOTES with one replica and failurePolicy Fail:\n%s", n)
	}
	if n := notes(t); strings.Contains(n, warning) {
		t.Errorf("NOTES warn about one replica with two:\n%s", n)
	}
}

// TestMonitoringNeedsOperatorCRDs: a ServiceMonitor or PrometheusRule on a cluster without the
// prometheus-operator CRDs fails with a sentence naming what to install and which value to turn
// off (not helm's raw `no matches for kind`); with the API present (--api-versions, as Argo CD and
// helm install pass the cluster's) it renders.
func TestMonitoringNeedsOperatorCRDs(t *testing.T) {
	for _, c := range []struct{ kind, value string }{
		{"ServiceMonitor", "serviceMonitor.enabled"},
		{"PrometheusRule", "prometheusRule.enabled"},
	} {
		_, err := templateBare(t, releaseName, "--set", c.value+"=true")
		if err == nil {
			t.Errorf("%s=true without the %s API rendered", c.value, c.kind)
			continue
		}
		for _, want := range []string{"install prometheus-operator", "set " + c.value + "=false", "monitoring.coreos.com/v1 " + c.kind, "--api-versions monitoring.coreos.com/v1/" + c.kind} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s without its CRD: message lacks %q:\n%v", c.value, want, err)
			}
		}
		// The other kind's API is not enough.
		other := "PrometheusRule"
		if c.kind == other {
			other = "ServiceMonitor"
		}
		if _, err := templateBare(t, releaseName, "--set", c.value+"=true", "--api-versions", "monitoring.coreos.com/v1/"+other); err == nil {
			t.Errorf("%s=true rendered with only the %s API", c.value, other)
		}
		out, err := templateBare(t, releaseName, "--set", c.value+"=true", "--api-versions", "monitoring.coreos.com/v1/"+c.kind)
		if err != nil {
			t.Errorf("%s=true with the API present: %v", c.value, err)
			continue
		}
		if _, ok := parse(t, out)[c.kind+"/"+releaseName]; !ok {
			t.Errorf("%s=true with the API present renders no %s", c.value, c.kind)
		}
	}
	if _, err := templateBare(t, releaseName); err != nil {
		t.Errorf("defaults (monitoring off) need no CRD: %v", err)
	}
}
