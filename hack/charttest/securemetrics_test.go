package charttest

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	readerRole = "ClusterRole/" + releaseName + "-metrics-reader"
	scraper    = releaseName + "-metrics-scraper"
)

// TestSecureMetrics: metrics.secure turns on --metrics-secure, adds exactly the two review grants
// to the ClusterRole, a reader ClusterRole (get on /metrics, nothing else) bound to metrics.readers,
// and a ServiceMonitor scraping over HTTPS with the token of a scraper ServiceAccount bound to it.
// Off (the default), none of it is rendered.
func TestSecureMetrics(t *testing.T) {
	r := renderCase(t, "securemetrics")
	cfg, _ := serveConfig(t, container(t, r))
	if !cfg.MetricsSecure || cfg.EventsPerMinute != 120 || cfg.EventsQPS != 2.5 || cfg.EventsBurst != 20 {
		t.Errorf("flags: metrics-secure=%v events-per-minute=%d events-qps=%g events-burst=%d",
			cfg.MetricsSecure, cfg.EventsPerMinute, cfg.EventsQPS, cfg.EventsBurst)
	}
	cr := get[rbacv1.ClusterRole](t, r, "ClusterRole/"+releaseName)
	want := append(append(slices.Clone(wantCluster), wantClusterSelf...), wantClusterSecureMetrics...)
	if !equality.Semantic.DeepEqual(cr.Rules, want) {
		t.Errorf("ClusterRole rules\n got %+v\nwant %+v", cr.Rules, want)
	}
	reader := get[rbacv1.ClusterRole](t, r, readerRole)
	if want := []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}; !equality.Semantic.DeepEqual(reader.Rules, want) {
		t.Errorf("reader rules %+v", reader.Rules)
	}
	readers := get[rbacv1.ClusterRoleBinding](t, r, "ClusterRoleBinding/"+releaseName+"-metrics-reader")
	wantReaders := []rbacv1.Subject{
		{Kind: "ServiceAccount", Name: "prometheus-k8s", Namespace: "monitoring"},
		{Kind: "Group", Name: "metrics-scrapers", APIGroup: rbacv1.GroupName},
	}
	if readers.RoleRef.Name != reader.Name || !equality.Semantic.DeepEqual(readers.Subjects, wantReaders) {
		t.Errorf("readers binding %+v %+v", readers.RoleRef, readers.Subjects)
	}

	sm := r["ServiceMonitor/"+releaseName]
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	ep := eps[0].(map[string]any)
	secretName, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name")
	key, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "key")
	skip, _, _ := unstructured.NestedBool(ep, "tlsConfig", "insecureSkipVerify")
	if ep["scheme"] != "https" || !skip || key != "token" || secretName != scraper {
		t.Errorf("ServiceMonitor endpoint %v: want https with the %s token", ep, scraper)
	}
	for _, f := range []string{"bearerTokenFile", "bearerTokenSecret"} {
		if _, ok := ep[f]; ok {
			t.Errorf("ServiceMonitor uses the deprecated %s", f)
		}
	}
	sec := get[corev1.Secret](t, r, "Secret/"+scraper)
	sa := get[corev1.ServiceAccount](t, r, "ServiceAccount/"+scraper)
	if sec.Type != corev1.SecretTypeServiceAccountToken || sec.Annotations[corev1.ServiceAccountNameKey] != sa.Name ||
		sec.Namespace != releaseNS || sa.Namespace != releaseNS || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("scraper Secret %s/%s type %s for %q; ServiceAccount %s/%s", sec.Namespace, sec.Name, sec.Type, sec.Annotations[corev1.ServiceAccountNameKey], sa.Namespace, sa.Name)
	}
	sb := get[rbacv1.ClusterRoleBinding](t, r, "ClusterRoleBinding/"+scraper)
	if sb.RoleRef.Name != reader.Name || !equality.Semantic.DeepEqual(sb.Subjects, []rbacv1.Subject{{Kind: "ServiceAccount", Name: scraper, Namespace: releaseNS}}) {
		t.Errorf("scraper binding %+v %+v", sb.RoleRef, sb.Subjects)
	}

	// Off, and secure without a metrics endpoint: nothing of it.
	for _, args := range [][]string{nil, {"--set", "metrics.secure=true", "--set", "metrics.enabled=false", "--set", "serviceMonitor.enabled=true"}} {
		out, err := template(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		r := parse(t, out)
		cfg, _ := serveConfig(t, container(t, r))
		if cfg.MetricsSecure {
			t.Errorf("%v: --metrics-secure passed", args)
		}
		for k := range r {
			if strings.Contains(k, "metrics-") || k == "ServiceMonitor/"+releaseName {
				t.Errorf("%v: %s rendered", args, k)
			}
		}
		if cr := get[rbacv1.ClusterRole](t, r, "ClusterRole/"+releaseName); !equality.Semantic.DeepEqual(cr.Rules, append(slices.Clone(wantCluster), wantClusterSelf...)) {
			t.Errorf("%v: ClusterRole rules %+v", args, cr.Rules)
		}
	}
}
