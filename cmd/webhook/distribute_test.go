package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestDistributeFlags: the distributor reads the shared configuration exactly as serve does (a
// TILTLIB_* variable reaches the base names), and refuses an empty selector, a missing source
// namespace and a bad rate limit, each with the flag named.
func TestDistributeFlags(t *testing.T) {
	t.Setenv("TILTLIB_LIB_CONFIGMAP", "platform-lib")
	ok := []string{"--source-namespace=platform", "--namespace-selector=workspaces=true", "--lease-namespace=tli"}
	cfg, _, s, err := loadDistribute(flagSet("distribute", &bytes.Buffer{}), ok)
	if err != nil {
		t.Fatalf("valid flags refused: %v", err)
	}
	if cfg.LibConfigMap != "platform-lib" || !slices.Equal(s.Bases, []string{"platform-lib", "tilt-templates"}) || s.Prefix != cfg.AnnotationPrefix {
		t.Errorf("shared configuration not used: bases %v prefix %q", s.Bases, s.Prefix)
	}
	// The webhook's marker selector names the labels a copy must carry to count.
	_, _, s, err = loadDistribute(flagSet("distribute", &bytes.Buffer{}), append(slices.Clone(ok), "--configmap-selector=tilt-lib.platform/published=true,tier in (a,b)"))
	if err != nil || !slices.Equal(s.MarkerLabels, []string{"tier", "tilt-lib.platform/published"}) {
		t.Errorf("marker labels %v (err %v), want the selector's keys", s.MarkerLabels, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(slices.Clone(ok), "--configmap-selector=a=(b"), "--configmap-selector"},
		{[]string{"--source-namespace=platform", "--lease-namespace=tli"}, "--namespace-selector is required"},
		{[]string{"--source-namespace=platform", "--namespace-selector=", "--lease-namespace=tli"}, "--namespace-selector is required"},
		{[]string{"--namespace-selector=a=b", "--lease-namespace=tli"}, "--source-namespace is required"},
		{append(slices.Clone(ok), "--qps=0"), "--qps"},
		{append(slices.Clone(ok), "--max-sources=0"), "--max-sources"},
		{append(slices.Clone(ok), "--namespace-selector=a=(b"), "--namespace-selector"},
		{append(slices.Clone(ok), "extra"), "takes flags only"},
	} {
		_, _, _, err := loadDistribute(flagSet("distribute", &bytes.Buffer{}), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	// Cleanup has no targets: no selector needed.
	if _, _, _, err := loadDistribute(flagSet("distribute", &bytes.Buffer{}), []string{"--source-namespace=platform", "--cleanup"}); err != nil {
		t.Errorf("--cleanup without a selector refused: %v", err)
	}
}
