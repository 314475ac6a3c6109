package charttest

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// TestServiceMonitor: the ServiceMonitor scrapes the Service's metrics port with honorLabels, so the
// adoption gauges keep their workspace `namespace` label (not exported_namespace), and the job it
// gives (the Service name) is the one the alerts select.
func TestServiceMonitor(t *testing.T) {
	r := renderCase(t, "monitoring")
	sm, ok := r["ServiceMonitor/"+releaseName]
	if !ok {
		t.Fatal("no ServiceMonitor")
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(eps) != 1 {
		t.Fatalf("endpoints %v", eps)
	}
	ep := eps[0].(map[string]any)
	if ep["honorLabels"] != true || ep["port"] != "metrics" {
		t.Errorf("endpoint %v: want port metrics with honorLabels true", ep)
	}
	svc := get[corev1.Service](t, r, "Service/"+releaseName)
	match, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if !labels.SelectorFromSet(match).Matches(labels.Set(svc.Labels)) || svc.Name != fullname(releaseName) {
		t.Errorf("ServiceMonitor selector %v does not select Service %s %v", match, svc.Name, svc.Labels)
	}
	var port bool
	for _, p := range svc.Spec.Ports {
		port = port || p.Name == "metrics"
	}
	if !port {
		t.Errorf("Service %s has no metrics port", svc.Name)
	}
	out, err := template(t, "--set", "serviceMonitor.enabled=true", "--set", "metrics.enabled=false")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parse(t, out)["ServiceMonitor/"+releaseName]; ok {
		t.Error("ServiceMonitor rendered with metrics disabled")
	}
}
