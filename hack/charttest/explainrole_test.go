package charttest

import (
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

const explainRole = "ClusterRole/" + releaseName + "-explain"

// The explain role is off by default; on, it reads (never writes) exactly what `webhook explain`
// reads, the registration by name, and binds the subjects given.
func TestExplainRole(t *testing.T) {
	if r := renderCase(t, "default"); r[explainRole] != nil || r["ClusterRoleBinding/"+releaseName+"-explain"] != nil {
		t.Errorf("the explain role is rendered by default")
	}
	r := renderCase(t, "explainrole")
	role := get[rbacv1.ClusterRole](t, r, explainRole)
	want := map[string][]string{ // "group/resource" -> verbs: what cmd/webhook/explain_live.go and explain_subject.go call
		"admissionregistration.k8s.io/mutatingwebhookconfigurations": {"get"},
		"/namespaces": {"get", "list"}, "/pods": {"get", "list"}, "/configmaps": {"get", "list"}, "/services": {"get", "list"},
		"discovery.k8s.io/endpointslices": {"list"},
		"apps/deployments":                {"get", "list"}, "apps/statefulsets": {"get", "list"}, "apps/daemonsets": {"get", "list"}, "apps/replicasets": {"get", "list"},
		"batch/jobs": {"get"}, "batch/cronjobs": {"get"},
	}
	got := map[string][]string{}
	for _, rule := range role.Rules {
		for _, v := range rule.Verbs {
			if !slices.Contains([]string{"get", "list", "watch"}, v) {
				t.Errorf("the explain role may %s %v: it must be read-only", v, rule.Resources)
			}
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				got[g+"/"+res] = rule.Verbs
			}
		}
		if slices.Contains(rule.Resources, "mutatingwebhookconfigurations") && !slices.Equal(rule.ResourceNames, []string{releaseName}) {
			t.Errorf("the registration is readable beyond its own name: %v", rule.ResourceNames)
		}
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: verbs %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rules cover %d resources, want %d: %v", len(got), len(want), got)
	}
	b := get[rbacv1.ClusterRoleBinding](t, r, "ClusterRoleBinding/"+releaseName+"-explain")
	if b.RoleRef.Name != releaseName+"-explain" || len(b.Subjects) != 2 || b.Subjects[0].Name != "platform-engineers" || b.Subjects[1].Namespace != "ci" {
		t.Errorf("binding %+v", b)
	}
}

// The schema refuses a subject it cannot bind.
func TestExplainRoleSchema(t *testing.T) {
	for _, set := range []string{
		`explainRole.subjects=[{"kind":"Pod","name":"x"}]`,
		`explainRole.subjects=[{"kind":"ServiceAccount","name":"x"}]`,
		`explainRole.create="yes"`,
	} {
		if _, err := template(t, "-f", filepath.Join("testdata", "explainrole.values.yaml"), "--set-json", set); err == nil {
			t.Errorf("%s accepted", set)
		}
	}
}
