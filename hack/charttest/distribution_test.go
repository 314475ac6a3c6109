package charttest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const distName = releaseName + "-distribute" // the release name holds the chart name: fullname is the release name

// TestDistributionOffByDefault: the default render has no distributor.
func TestDistributionOffByDefault(t *testing.T) {
	for _, k := range renderCase(t, "default").keys() {
		if strings.Contains(k, "distribute") {
			t.Errorf("rendered by default: %s", k)
		}
	}
}

// TestDistribution: the distributor reads the webhook's shared configuration from the same
// values, runs as its own ServiceAccount, is never selected by the webhook's Service, and its
// policy is bound to exactly that ServiceAccount.
func TestDistribution(t *testing.T) {
	r := renderCase(t, "distribution")
	webhook := get[appsv1.Deployment](t, r, "Deployment/"+releaseName)
	dist := get[appsv1.Deployment](t, r, "Deployment/"+distName)
	wargs, dargs := webhook.Spec.Template.Spec.Containers[0].Args, dist.Spec.Template.Spec.Containers[0].Args
	if dargs[0] != "distribute" {
		t.Fatalf("distributor args %v", dargs)
	}
	for _, flag := range []string{"--annotation-prefix=", "--lib-configmap=", "--templates-configmap=", "--version-label=", "--configmap-selector="} {
		w := slices.IndexFunc(wargs, func(a string) bool { return strings.HasPrefix(a, flag) })
		d := slices.IndexFunc(dargs, func(a string) bool { return strings.HasPrefix(a, flag) })
		if w < 0 || d < 0 || wargs[w] != dargs[d] {
			t.Errorf("%s: webhook and distributor disagree or lack it (%v / %v)", flag, wargs, dargs)
		}
	}
	for _, want := range []string{"--configmap-selector=tilt-lib.platform/published=true", "--source-namespace=platform", "--namespace-selector=tilt-lib.platform/workspaces=true",
		"--exclude-namespaces=" + releaseNS + ",argocd", "--grace=12h", "--lease-namespace=" + releaseNS} {
		if !slices.Contains(dargs, want) {
			t.Errorf("distributor args lack %s: %v", want, dargs)
		}
	}
	if *dist.Spec.Replicas != 2 || dist.Spec.Template.Spec.ServiceAccountName != distName {
		t.Errorf("replicas %d, ServiceAccount %s", *dist.Spec.Replicas, dist.Spec.Template.Spec.ServiceAccountName)
	}
	svc := get[corev1.Service](t, r, "Service/"+releaseName)
	if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dist.Spec.Template.Labels)) ||
		labels.SelectorFromSet(webhook.Spec.Selector.MatchLabels).Matches(labels.Set(dist.Spec.Template.Labels)) {
		t.Errorf("the webhook's Service or Deployment selects the distributor's Pods (%v)", dist.Spec.Template.Labels)
	}
	get[corev1.ServiceAccount](t, r, "ServiceAccount/"+distName)
	role := get[rbacv1.ClusterRole](t, r, "ClusterRole/"+distName)
	for _, rule := range role.Rules {
		if slices.Contains(rule.Resources, "pods") && !slices.Equal(rule.Verbs, []string{"list"}) {
			t.Errorf("Pods: verbs %v, want list only", rule.Verbs)
		}
		if slices.Contains(rule.Resources, "secrets") {
			t.Error("the distributor can touch Secrets")
		}
	}
	lease := get[rbacv1.Role](t, r, "Role/"+distName)
	if lease.Namespace != releaseNS || lease.Rules[0].Resources[0] != "leases" {
		t.Errorf("lease role %+v", lease)
	}
	vap := get[admissionv1.ValidatingAdmissionPolicy](t, r, "ValidatingAdmissionPolicy/"+distName)
	if len(vap.Spec.MatchConditions) != 1 || !strings.Contains(vap.Spec.MatchConditions[0].Expression, "system:serviceaccount:"+releaseNS+":"+distName+"'") {
		t.Errorf("policy not bound to the distributor's ServiceAccount: %+v", vap.Spec.MatchConditions)
	}
	var cel []string
	for _, v := range vap.Spec.Variables {
		cel = append(cel, v.Expression)
	}
	for _, v := range vap.Spec.Validations {
		cel = append(cel, v.Expression)
	}
	for _, want := range []string{"request.namespace != 'platform'", `"platform-lib"`, `"tilt-templates"`, "'tilt-lib-injector'"} {
		if !strings.Contains(strings.Join(cel, "\n"), want) {
			t.Errorf("policy lacks %s:\n%s", want, strings.Join(cel, "\n"))
		}
	}
	b := get[admissionv1.ValidatingAdmissionPolicyBinding](t, r, "ValidatingAdmissionPolicyBinding/"+distName)
	if b.Spec.PolicyName != distName || !slices.Equal(b.Spec.ValidationActions, []admissionv1.ValidationAction{admissionv1.Deny}) {
		t.Errorf("binding %+v", b.Spec)
	}
}

// TestDistributionRefuses: what the binary refuses, the chart refuses, naming the value; the
// bounds are accepted at their edge.
func TestDistributionRefuses(t *testing.T) {
	on := []string{"--set", "distribution.enabled=true", "--set", "distribution.sourceNamespace=platform", "--set", "distribution.namespaceSelector=a=b"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no source namespace", []string{"--set", "distribution.enabled=true", "--set", "distribution.namespaceSelector=a=b"}, "distribution.sourceNamespace is required"},
		{"no selector", []string{"--set", "distribution.enabled=true", "--set", "distribution.sourceNamespace=platform"}, "distribution.namespaceSelector is required"},
		{"source is the release namespace", append(slices.Clone(on), "--set", "distribution.sourceNamespace="+releaseNS), "must not be the release namespace"},
		{"zero qps", append(slices.Clone(on), "--set", "distribution.qps=0"), "/distribution/qps"},
		{"no sources", append(slices.Clone(on), "--set", "distribution.maxSources=0"), "/distribution/maxSources"},
		{"too many sources", append(slices.Clone(on), "--set", "distribution.maxSources=257"), "/distribution/maxSources"},
		{"grace not a duration", append(slices.Clone(on), "--set", "distribution.grace=1d"), "/distribution/grace"},
		{"source not a namespace name", append(slices.Clone(on), "--set", "distribution.sourceNamespace=Platform"), "/distribution/sourceNamespace"},
	} {
		_, err := template(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.want)
		}
	}
	for _, n := range []string{"1", "256"} {
		if _, err := template(t, append(slices.Clone(on), "--set", "distribution.maxSources="+n)...); err != nil {
			t.Errorf("maxSources=%s refused: %v", n, err)
		}
	}
}

// TestDistributionAlertPromtool: the distributor's rule passes `promtool check rules` and its unit
// tests (testdata/distribution_alerts_test.yaml: fires and does not fire), and docs/runbook.md has
// its section.
func TestDistributionAlertPromtool(t *testing.T) {
	on := []string{"--set", "distribution.enabled=true", "--set", "distribution.sourceNamespace=platform",
		"--set", "distribution.namespaceSelector=a=b", "--set", "prometheusRule.enabled=true"}
	out, err := templateAs(t, "acme", on...)
	if err != nil {
		t.Fatal(err)
	}
	pr, ok := parse(t, out)["PrometheusRule/acme-tilt-lib-injector-distribute"]
	if !ok {
		t.Fatal("no distributor PrometheusRule")
	}
	spec, err := yaml.Marshal(pr.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	promtoolRules(t, "distribution", spec, "distribution_alerts_test.yaml")
	runbook, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(runbook), "\n## TiltLibDistributionStale\n") {
		t.Error("docs/runbook.md has no section TiltLibDistributionStale")
	}
}
