package charttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The alerts of docs/design.md (Adoption: the alert table); docs/runbook.md has a section
// (heading = the name) for each.
var wantAlerts = []string{
	"TiltLibInjectorDown", "TiltLibInjectorNotReady", "TiltLibWorkspacesNotInjected",
	"TiltLibAdmissionErrors", "TiltLibConfigMapMissing", "TiltLibCertificateExpiringSoon",
	"TiltLibVersionsDocumentInvalid", "TiltLibVersionsReplicasDisagree", "TiltLibRolloutOffTarget",
}

const defaultRunbook = "https://github.com/platform-tools/tilt-lib-injector/blob/main/docs/runbook.md"

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type ruleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []rule `json:"rules"`
	} `json:"groups"`
}

// renderRules renders the chart's PrometheusRule as release (plus args) and returns its spec, the
// rule-file format promtool and Prometheus read.
func renderRules(t *testing.T, release string, args ...string) ([]byte, ruleGroups) {
	t.Helper()
	out, err := templateAs(t, release, append([]string{"--set", "prometheusRule.enabled=true"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	pr, ok := r["PrometheusRule/"+fullname(release)]
	if !ok {
		t.Fatalf("no PrometheusRule/%s; have %v", fullname(release), r.keys())
	}
	spec, err := yaml.Marshal(pr.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	var g ruleGroups
	if err := yaml.Unmarshal(spec, &g); err != nil {
		t.Fatal(err)
	}
	return spec, g
}

// fullname is the chart's tli.fullname for a release: the chart name is appended unless already in it.
func fullname(release string) string {
	if strings.Contains(release, "tilt-lib-injector") {
		return release
	}
	return release + "-tilt-lib-injector"
}

func promtool(t *testing.T) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(helm(t)), "promtool")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no promtool next to helm (hack/tools.sh unpacks it): %v", err)
	}
	return p
}

// TestAlertRulesPromtool: promtool accepts the rules of the default release and of another release
// name, and the unit tests of testdata/alerts_test.yaml (each alert fires and does not fire) pass
// against the rules rendered for release "acme".
func TestAlertRulesPromtool(t *testing.T) {
	for _, release := range []string{releaseName, "acme"} {
		spec, _ := renderRules(t, release)
		tests := ""
		if release == "acme" {
			tests = "alerts_test.yaml"
		}
		promtoolRules(t, release, spec, tests)
	}
}

// promtoolRules checks the rule file spec with the real promtool and, when tests names a file of
// testdata/, runs its unit tests against it (the file loads rules.yaml).
func promtoolRules(t *testing.T, what string, spec []byte, tests string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool(t), "check", "rules", filepath.Join(dir, "rules.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules (%s): %v\n%s", what, err, out)
	}
	if tests == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join("testdata", tests))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "alerts_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules (%s, %s): %v\n%s", what, tests, err, out)
	}
}

// TestAlertRulesContract: exactly the alerts of wantAlerts, each selecting the release's job on every metric it
// reads, reading only contract metrics (adoption gauges through max), with severity, summary,
// description and a runbook_url whose anchor is a section of docs/runbook.md.
func TestAlertRulesContract(t *testing.T) {
	runbook, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, line := range strings.Split(string(runbook), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			headings[strings.TrimSpace(h)] = true
		}
	}
	for _, release := range []string{releaseName, "acme"} {
		_, g := renderRules(t, release)
		job := `job="` + fullname(release) + `"`
		var names []string
		for _, grp := range g.Groups {
			for _, r := range grp.Rules {
				names = append(names, r.Alert)
				where := release + "/" + r.Alert
				metrics, problems := metricNames(r.Expr)
				problems = append(problems, maxFirst(r.Expr)...)
				problems = append(problems, jobSelected(r.Expr, job, metrics)...)
				for _, p := range problems {
					t.Errorf("%s: %s", where, p)
				}
				if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" || r.For == "" {
					t.Errorf("%s: severity %q, summary %q, description %q, for %q", where, r.Labels["severity"], r.Annotations["summary"], r.Annotations["description"], r.For)
				}
				if want := defaultRunbook + "#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
					t.Errorf("%s: runbook_url %q, want %q", where, r.Annotations["runbook_url"], want)
				}
				if !headings[r.Alert] {
					t.Errorf("%s: docs/runbook.md has no section `## %s`", where, r.Alert)
				}
			}
		}
		if !slices.Equal(names, wantAlerts) {
			t.Errorf("%s: alerts %v, want %v", release, names, wantAlerts)
		}
	}
}

// TestAlertValues: what a platform team tunes reaches the rules: durations, thresholds, severities,
// extra labels, the runbook base and the job.
func TestAlertValues(t *testing.T) {
	_, g := renderRules(t, releaseName,
		"--set", "prometheusRule.job=my-scrape-job",
		"--set", "prometheusRule.runbookBaseURL=https://wiki.example.com/tli",
		"--set", "prometheusRule.alertLabels.team=platform",
		"--set", "prometheusRule.alerts.notInjected.for=30m",
		"--set", "prometheusRule.alerts.down.severity=page",
		"--set", "prometheusRule.alerts.certificateExpiry.days=30",
		"--set-json", "prometheusRule.alerts.admissionErrors.ratio=0.2", // --set would make a string
		"--set-json", "prometheusRule.alerts.admissionErrors.minRate=0.5",
		"--set", "prometheusRule.alerts.rolloutOffTarget.points=25",
	)
	rules := map[string]rule{}
	for _, r := range g.Groups[0].Rules {
		rules[r.Alert] = r
		if r.Labels["team"] != "platform" || !strings.HasPrefix(r.Annotations["runbook_url"], "https://wiki.example.com/tli#") {
			t.Errorf("%s: labels %v, runbook %q", r.Alert, r.Labels, r.Annotations["runbook_url"])
		}
		metrics, _ := metricNames(r.Expr)
		for _, p := range jobSelected(r.Expr, `job="my-scrape-job"`, metrics) {
			t.Errorf("%s: %s", r.Alert, p)
		}
	}
	if r := rules["TiltLibWorkspacesNotInjected"]; r.For != "30m" {
		t.Errorf("notInjected.for: %q", r.For)
	}
	if r := rules["TiltLibInjectorDown"]; r.Labels["severity"] != "page" {
		t.Errorf("down.severity: %v", r.Labels)
	}
	if r := rules["TiltLibCertificateExpiringSoon"]; !strings.Contains(r.Expr, "< 30 * 86400") {
		t.Errorf("certificateExpiry.days: %q", r.Expr)
	}
	if r := rules["TiltLibRolloutOffTarget"]; !strings.Contains(r.Expr, ") > 25\n") {
		t.Errorf("rolloutOffTarget.points: %q", r.Expr)
	}
	if r := rules["TiltLibAdmissionErrors"]; !strings.Contains(r.Expr, ") > 0.2\n") || !strings.HasSuffix(r.Expr, "[5m])) > 0.5") {
		t.Errorf("admissionErrors ratio/minRate: %q", r.Expr)
	}
}

// TestAlertsNeedMetrics: alerts on a release that serves no metrics would fire forever; the chart
// refuses the combination and says why.
func TestAlertsNeedMetrics(t *testing.T) {
	_, err := template(t, "--set", "prometheusRule.enabled=true", "--set", "metrics.enabled=false")
	if err == nil || !strings.Contains(err.Error(), "prometheusRule.enabled needs metrics.enabled") {
		t.Errorf("prometheusRule without metrics: %v", err)
	}
}
