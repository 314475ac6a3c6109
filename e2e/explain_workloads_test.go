//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// explainRun runs `webhook explain` with the given arguments: exit code, stdout, stderr.
type explainRun func(args ...string) (int, string, string)

// explainWorkloads checks the pod template of every other workload kind (each template asks for
// something else, so a kind that read the wrong object would report the wrong decision), the
// --server row on an existing Pod against a dry run of the Pod its creator sends, and the
// errors of an unknown kind and missing objects. It runs after TestExplain's namespace
// scenario: the Pod it creates would be a second straggler there.
func explainWorkloads(ctx context.Context, t *testing.T, e *harness.Injector, run explainRun) {
	t.Helper()
	c := e.Client
	ws := map[string]string{harness.WorkspaceLabel: harness.WorkspaceValue}
	tmpl := func(annotations map[string]string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
		s := harness.WorkspacePodSpec()
		if restart != "" {
			s.RestartPolicy = restart
		}
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: ws, Annotations: annotations}, Spec: s}
	}
	sel := &metav1.LabelSelector{MatchLabels: ws}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: explainNS} }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("creating %s: %v", what, err)
		}
	}
	_, err := c.AppsV1().StatefulSets(explainNS).Create(ctx, &appsv1.StatefulSet{ObjectMeta: meta("coder-sts"),
		Spec: appsv1.StatefulSetSpec{Selector: sel, Template: tmpl(map[string]string{"tilt-lib.platform/version": "v3"}, "")}}, metav1.CreateOptions{})
	must("statefulset", err)
	_, err = c.AppsV1().DaemonSets(explainNS).Create(ctx, &appsv1.DaemonSet{ObjectMeta: meta("coder-ds"),
		Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl(map[string]string{"tilt-lib.platform/inject": "false"}, "")}}, metav1.CreateOptions{})
	must("daemonset", err)
	_, err = c.AppsV1().ReplicaSets(explainNS).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: meta("coder-rs"),
		Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl(nil, "")}}, metav1.CreateOptions{})
	must("replicaset", err)
	_, err = c.BatchV1().Jobs(explainNS).Create(ctx, &batchv1.Job{ObjectMeta: meta("coder-job"),
		Spec: batchv1.JobSpec{Template: tmpl(map[string]string{"tilt-lib.platform/version": "v1"}, corev1.RestartPolicyNever)}}, metav1.CreateOptions{})
	must("job", err)
	_, err = c.CoreV1().ConfigMaps(explainNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-v1", Namespace: explainNS,
		Labels: map[string]string{"version": "1.0.0"}}}, metav1.CreateOptions{})
	must("configmap tilt-lib-v1", err)

	report := func(name string, wantCode int, args ...string) explain.Report {
		t.Helper()
		code, out, errOut := run(append(args, "-n", explainNS, "-o", "json")...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr %q\n%s", name, code, wantCode, errOut, out)
		}
		var o explain.Output
		if err := json.Unmarshal([]byte(out), &o); err != nil || len(o.Reports) != 1 {
			t.Fatalf("%s: -o json: %v (%d reports)\n%s", name, err, len(o.Reports), out)
		}
		return o.Reports[0]
	}
	check := func(name string, r explain.Report, layer string, want explain.Result, detail string) {
		t.Helper()
		for _, c := range r.Checks {
			if c.Layer == layer {
				if c.Result != want || !strings.Contains(c.Detail, detail) {
					t.Errorf("%s: %s row %s %q, want %s with %q", name, layer, c.Result, c.Detail, want, detail)
				}
				return
			}
		}
		t.Errorf("%s: no %s row in %+v", name, layer, r.Checks)
	}
	lib := func(name string, r explain.Report, configMap string, source mutate.Source) {
		t.Helper()
		if r.Decision.Status != string(mutate.OutcomeInjected) || len(r.Decision.Components) == 0 {
			t.Fatalf("%s: decision %+v, want injected", name, r.Decision)
		}
		if got := r.Decision.Components[0]; got.Component != "tilt-lib" || got.ConfigMap != configMap || got.Source != source {
			t.Errorf("%s: tilt-lib decided %+v, want %s from %s", name, got, configMap, source)
		}
	}

	r := report("sts", explain.ExitError, "sts/coder-sts")
	if r.Subject != (explain.Subject{Kind: "statefulset", Namespace: explainNS, Name: "coder-sts"}) {
		t.Errorf("sts: subject %+v", r.Subject)
	}
	lib("sts", r, "tilt-lib-v3", mutate.SourcePod)
	check("sts", r, "tilt-lib version", explain.OK, "pod annotation tilt-lib.platform/version=v3 → v3")
	check("sts", r, "tilt-lib configmap", explain.Error, "tilt-lib-v3 not in team-explain (it exists in no namespace)")

	r = report("ds", explain.ExitError, "ds/coder-ds")
	if r.Subject.Kind != "daemonset" || r.Decision.Status != "skipped:"+string(mutate.ReasonOptedOut) {
		t.Errorf("ds: subject %+v, status %q, want daemonset skipped:%s", r.Subject, r.Decision.Status, mutate.ReasonOptedOut)
	}
	check("ds", r, explain.LayerOptOut, explain.Error, "")

	r = report("rs", explain.ExitError, "rs/coder-rs")
	if r.Subject.Kind != "replicaset" {
		t.Errorf("rs: subject %+v", r.Subject)
	}
	lib("rs", r, "tilt-lib-v2", mutate.SourceNamespace)
	check("rs", r, "tilt-lib configmap", explain.Error, "tilt-lib-v2 not in team-explain (it exists in: default)")

	r = report("job", explain.ExitOK, "job/coder-job")
	if r.Subject.Kind != "job" {
		t.Errorf("job: subject %+v", r.Subject)
	}
	lib("job", r, "tilt-lib-v1", mutate.SourcePod)
	check("job", r, "tilt-lib configmap", explain.OK, "tilt-lib-v1 in team-explain, version 1.0.0")

	explainClash(ctx, t, e, report, check)
	explainServerExisting(ctx, t, e, report, check)
	explainAsRole(ctx, t, e, run)

	for _, bad := range []struct{ name, arg, want string }{
		{"an unknown kind", "widget/x", `unknown kind "widget"`},
		{"a missing deployment", "deploy/nobody", "deployments.apps nobody in namespace team-explain not found"},
		{"a missing statefulset", "sts/nobody", "statefulsets.apps nobody in namespace team-explain not found"},
		{"a missing job", "job/nobody", "jobs.batch nobody in namespace team-explain not found"},
		{"a missing namespace", "namespace/nowhere", "nowhere not found"},
	} {
		code, out, errOut := run(bad.arg, "-n", explainNS)
		if code != explain.ExitUsage || !strings.Contains(errOut, bad.want) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit %d naming %q", bad.name, code, errOut, out, explain.ExitUsage, bad.want)
		}
	}
}

// explainServerExisting: `--server` on an admitted Pod sends what a restart would send, and
// agrees with a dry run of the Pod as its creator sends it, made here.
func explainServerExisting(ctx context.Context, t *testing.T, e *harness.Injector,
	report func(string, int, ...string) explain.Report, check func(string, explain.Report, string, explain.Result, string)) {
	t.Helper()
	stored, err := e.Client.CoreV1().Pods(explainNS).Create(ctx, harness.WorkspacePod("coder-erin", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := report("--server on an existing Pod", explain.ExitError, "pod/coder-erin", "--server")
	check("--server on an existing Pod", r, explain.LayerServer, explain.OK, "the deployed webhook answered injected")
	check("--server on an existing Pod", r, explain.LayerRecorded, explain.OK, "")

	dry := harness.WorkspacePod("", nil)
	dry.GenerateName = "dry-erin-"
	got, err := e.Client.CoreV1().Pods(explainNS).Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok, err := harness.InjectedRecord(got)
	if err != nil || !ok || rec.Lib == nil {
		t.Fatalf("dry run not injected: %v %+v", err, got.Annotations)
	}
	d := r.Decision
	if d.Status != got.Annotations[harness.KeyStatus] || d.Components[0].ConfigMap != rec.Lib.ConfigMap {
		t.Errorf("explain decided %s %+v, the test's dry run %s %+v", d.Status, d.Components[0], got.Annotations[harness.KeyStatus], rec.Lib)
	}
	if r.Recorded == nil || r.Recorded.Status != stored.Annotations[harness.KeyStatus] || r.Recorded.Record == nil {
		t.Errorf("recorded %+v, the stored Pod has %q", r.Recorded, stored.Annotations[harness.KeyStatus])
	}
}

// explainClash: once the distributor keeps a copy of tilt-lib-v1 in another namespace, the job's
// tilt-lib-v1 in team-explain (made by hand, unmanaged) is a clash: a ‼ row naming how to adopt
// it, exit 0, and 4 with --strict. The copy's labels are pkg/distribute's.
func explainClash(ctx context.Context, t *testing.T, e *harness.Injector,
	report func(string, int, ...string) explain.Report, check func(string, explain.Report, string, explain.Result, string)) {
	t.Helper()
	const other = "team-explain-copies"
	if err := createNamespace(ctx, e.Client, other, nil); err != nil {
		t.Fatal(err)
	}
	cp := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-v1", Namespace: other, Labels: map[string]string{
		"version": "1.0.0", distribute.ManagedByLabel: distribute.ManagedBy, harness.Prefix + distribute.KeySourceNamespace: "platform"}}}
	if _, err := e.Client.CoreV1().ConfigMaps(other).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := report("a clash with the distributor", explain.ExitOK, "job/coder-job")
	check("a clash with the distributor", r, "tilt-lib distribution", explain.Warning,
		"clash: a ConfigMap team-explain/tilt-lib-v1 without app.kubernetes.io/managed-by=tilt-lib-injector exists")
	adopt := "kubectl label configmap tilt-lib-v1 -n team-explain app.kubernetes.io/managed-by=tilt-lib-injector"
	for _, c := range r.Checks {
		if c.Layer == "tilt-lib distribution" && !strings.Contains(c.Hint, adopt) {
			t.Errorf("a clash with the distributor: hint %q lacks %q", c.Hint, adopt)
		}
	}
	report("a clash with the distributor, --strict", explain.ExitWarning, "job/coder-job", "--strict")
}
