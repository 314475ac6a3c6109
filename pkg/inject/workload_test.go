package inject

import "testing"

func TestPodPath(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		pointer          string
		ok               bool
	}{
		{"v1", "Pod", "", true},
		{"apps/v1", "Deployment", "/spec/template", true},
		{"apps/v1beta2", "StatefulSet", "/spec/template", true},
		{"apps/v1", "DaemonSet", "/spec/template", true},
		{"apps/v1", "ReplicaSet", "/spec/template", true},
		{"batch/v1", "Job", "/spec/template", true},
		{"batch/v1", "CronJob", "/spec/jobTemplate/spec/template", true},
		{"v1", "ReplicationController", "/spec/template", true},
		{"example.com/v1", "Pod", "", false},
		{"v1", "Deployment", "", false},
		{"v1", "ConfigMap", "", false},
	}
	for _, tt := range tests {
		path, ok := podPath(header{APIVersion: tt.apiVersion, Kind: tt.kind})
		if ok != tt.ok || pointer(path) != tt.pointer {
			t.Errorf("podPath(%s %s) = %q, %v; want %q, %v", tt.apiVersion, tt.kind, pointer(path), ok, tt.pointer, tt.ok)
		}
	}
}
