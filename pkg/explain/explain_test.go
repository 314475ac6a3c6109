package explain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// want asserts a row's result and that its detail and hint hold the given substrings.
type want struct {
	layer  string
	result Result
	detail []string
	hint   []string
}

func check(t *testing.T, r Report, w want) {
	t.Helper()
	c := row(t, r, w.layer)
	if c.Result != w.result {
		t.Errorf("%s: result %s, want %s (%s)", w.layer, c.Result, w.result, c.Detail)
	}
	for _, s := range w.detail {
		if !strings.Contains(c.Detail, s) {
			t.Errorf("%s: detail %q lacks %q", w.layer, c.Detail, s)
		}
	}
	for _, s := range w.hint {
		if !strings.Contains(c.Hint, s) {
			t.Errorf("%s: hint %q lacks %q", w.layer, c.Hint, s)
		}
	}
	if c.Result != OK && c.Hint == "" {
		t.Errorf("%s: a %s row without a hint", w.layer, c.Result)
	}
}

func TestRows(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, in *Input)
		want  []want
	}{
		{"pinned through an alias", nil, []want{
			{layer: "tilt-lib version", result: OK, detail: []string{"namespace team-a pins stable → alias stable = v2 (2.0.1)"}},
			{layer: "tilt-lib configmap", result: OK, detail: []string{"tilt-lib-v2 in team-a, version 2.0.1"}},
			{layer: "tilt-templates version", result: OK, detail: []string{`server default --default-templates-version "" (the unversioned ConfigMap) → default`}},
			{layer: LayerTargets, result: OK, detail: []string{"mounted into dev; not targeted: sidecar"}},
			{layer: LayerOptOut, result: OK}, {layer: LayerOverride, result: OK, detail: []string{"Pod overrides allowed"}},
		}},
		{"registration found", func(t *testing.T, in *Input) { in.Webhook = liveWebhook() }, []want{
			{layer: LayerRegistration, result: OK, detail: []string{"tilt-lib-injector, failurePolicy Ignore, 2/2 endpoints ready", "deployment tilt-lib-injector/tilt-lib-injector args"}},
		}},
		{"registration missing", func(t *testing.T, in *Input) { in.Webhook = &Webhook{Name: "tilt-lib-injector"} }, []want{
			{layer: LayerRegistration, result: Error, detail: []string{"no MutatingWebhookConfiguration tilt-lib-injector"}, hint: []string{"helm install"}},
		}},
		{"no endpoint ready", func(t *testing.T, in *Input) { in.Webhook = liveWebhook(); in.Webhook.Ready = 0 }, []want{
			{layer: LayerRegistration, result: Error, detail: []string{"0/2 endpoints ready"}, hint: []string{"un-injected"}},
		}},
		{"namespace selector", func(t *testing.T, in *Input) {
			in.Webhook = liveWebhook()
			in.Webhook.NamespaceSelector = labels.SelectorFromSet(map[string]string{"coder": "true"})
		}, []want{
			{layer: LayerNamespaceSelector, result: Error, detail: []string{"namespace team-a does not match coder=true"}, hint: []string{"label the namespace: coder=true"}},
		}},
		{"object selector: label missing on the template", func(t *testing.T, in *Input) {
			in.Subject = Subject{Kind: "deployment", Namespace: "team-a", Name: "coder-bob"}
			in.Pod.Labels = map[string]string{"app": "other"}
		}, []want{
			{layer: LayerObjectSelector, result: Error, detail: []string{"app.kubernetes.io/name=coder-workspace does not match"},
				hint: []string{"add the label app.kubernetes.io/name=coder-workspace to deployment/coder-bob spec.template.metadata.labels"}},
		}},
		{"registration object selector too", func(t *testing.T, in *Input) {
			in.Webhook = liveWebhook()
			in.Webhook.ObjectSelector = labels.SelectorFromSet(map[string]string{"tier": "ws"})
		}, []want{
			{layer: LayerObjectSelector, result: Error, detail: []string{"tier=ws does not match"}, hint: []string{"tier=ws", "the Pod's template"}},
		}},
		{"registration object selector equal to --workspace-selector: named once", func(t *testing.T, in *Input) {
			in.Webhook = liveWebhook()
			in.Webhook.ObjectSelector = in.Workspaces
			in.Pod.Labels = nil
		}, []want{
			{layer: LayerObjectSelector, result: Error, detail: []string{"does not match"}, hint: []string{"add the label app.kubernetes.io/name=coder-workspace to the Pod's template"}},
		}},
		{"opted out by the namespace", func(t *testing.T, in *Input) { in.NamespaceAnnotations[prefix+"inject"] = "false" }, []want{
			{layer: LayerOptOut, result: Error, detail: []string{`inject is "false" on namespace "team-a"`}, hint: []string{"remove the annotation"}},
		}},
		{"override forbidden", func(t *testing.T, in *Input) {
			in.NamespaceAnnotations[prefix+"allow-pod-override"] = "false"
			in.Pod.Annotations = map[string]string{prefix + "version": "v3"}
		}, []want{
			{layer: LayerOverride, result: Warning, detail: []string{`"v3" on the pod was ignored`}, hint: []string{"forbids Pod overrides"}},
			{layer: "tilt-lib version", result: OK, detail: []string{"namespace team-a pins stable"}},
		}},
		{"pod pin", func(t *testing.T, in *Input) { in.Pod.Annotations = map[string]string{prefix + "version": "default"} }, []want{
			{layer: "tilt-lib version", result: OK, detail: []string{"pod annotation tilt-lib.platform/version=default → default (1.4.0)"}},
		}},
		{"configmap absent, exists elsewhere", func(t *testing.T, in *Input) {
			in.ConfigMaps = lookup{"default/tilt-lib-v2": "2.0.1", "team-b/tilt-lib-v2": "2.0.1", "team-a/tilt-templates": ""}
		}, []want{
			{layer: "tilt-lib configmap", result: Error, detail: []string{"tilt-lib-v2 not in team-a (it exists in: default, team-b)"},
				hint: []string{"ConfigMap volumes are namespaced: copy it into team-a", "kubectl get configmap tilt-lib-v2 -n default"}},
		}},
		{"configmap absent everywhere", func(t *testing.T, in *Input) { in.ConfigMaps = lookup{"team-a/tilt-templates": ""} }, []want{
			{layer: "tilt-lib configmap", result: Error, detail: []string{"(it exists in no namespace)"}, hint: []string{"publish ConfigMap tilt-lib-v2 into team-a"}},
		}},
		{"fallback", func(t *testing.T, in *Input) {
			in.ConfigMaps = lookup{"team-a/tilt-lib": "1.4.0", "default/tilt-lib-v2": "", "team-a/tilt-templates": ""}
		}, []want{
			{layer: "tilt-lib version", result: Warning, detail: []string{`"tilt-lib-v2" (from the namespace annotation via alias stable=v2) not found`}, hint: []string{"configmap row"}},
			{layer: "tilt-lib configmap", result: Warning, detail: []string{"tilt-lib-v2 not in team-a (it exists in: default); mounted tilt-lib instead"}, hint: []string{"copy it into team-a"}},
		}},
		{"invalid version", func(t *testing.T, in *Input) { in.Pod.Annotations = map[string]string{prefix + "version": "V_2"} }, []want{
			{layer: "tilt-lib version", result: Warning, detail: []string{"not a valid version"}, hint: []string{"DNS-1123"}},
		}},
		{"container not targeted: unknown name", func(t *testing.T, in *Input) {
			in.Pod.Annotations = map[string]string{prefix + "containers": "dev,ide"}
		}, []want{
			{layer: LayerTargets, result: Warning, detail: []string{`"ide"`}, hint: []string{"the Pod's containers are dev, sidecar"}},
		}},
		{"an inject value that means nothing", func(t *testing.T, in *Input) { in.Pod.Annotations = map[string]string{prefix + "inject": "no"} }, []want{
			{layer: LayerOptOut, result: Warning, detail: []string{"not opted out; ", `"no"`}, hint: []string{`only "true" and "false" mean something`}},
		}},
		{"namespace forbids overrides, the Pod sets none", func(t *testing.T, in *Input) {
			in.NamespaceAnnotations[prefix+"allow-pod-override"] = "false"
		}, []want{
			{layer: LayerOverride, result: OK, detail: []string{`namespace team-a forbids Pod overrides (tilt-lib.platform/allow-pod-override: "false"); the Pod sets none`}},
		}},
		{"no selector at all", func(t *testing.T, in *Input) { in.Workspaces = labels.Everything() }, []want{
			{layer: LayerObjectSelector, result: OK, detail: []string{"every Pod is selected"}},
		}},
		{"too many containers", func(t *testing.T, in *Input) {
			for i := len(in.Pod.Spec.Containers); i <= mutate.MaxContainers; i++ {
				in.Pod.Spec.Containers = append(in.Pod.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i)})
			}
		}, []want{
			{layer: LayerTargets, result: Warning, detail: []string{"mounted into dev; "}, hint: []string{"the Pod's containers are dev, sidecar, c2"}},
		}},
		{"mount path conflict", func(t *testing.T, in *Input) {
			in.Pod.Spec.Volumes = append(in.Pod.Spec.Volumes, emptyDirVolume("mine"))
			in.Pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "mine", MountPath: "/apps/tilt-lib"}}
		}, []want{
			{layer: LayerConflicts, result: Error, detail: []string{"/apps/tilt-lib"}, hint: []string{"mount it at another path"}},
			{layer: "tilt-lib version", result: Error, detail: []string{"tilt-lib is not mounted"}},
		}},
		{"no container", func(t *testing.T, in *Input) { in.Pod.Spec.Containers = nil }, []want{
			{layer: LayerTargets, result: Error, detail: []string{"no containers"}, hint: []string{"add a container"}},
		}},
		{"volume conflict", func(t *testing.T, in *Input) {
			in.Pod.Spec.Volumes = append(in.Pod.Spec.Volumes, emptyDirVolume("tilt-lib"))
		}, []want{
			{layer: LayerConflicts, result: Error, detail: []string{`volume "tilt-lib" already exists`}, hint: []string{"rename"}},
			{layer: "tilt-lib version", result: Error, detail: []string{"tilt-lib is not mounted"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			if tt.setup != nil {
				tt.setup(t, &in)
			}
			r := explainOK(t, in)
			for _, w := range tt.want {
				check(t, r, w)
			}
		})
	}
}

// An opted-out Pod gets no component rows: nothing was decided for them.
func TestOptedOutStopsAtOptOut(t *testing.T) {
	in := baseInput()
	in.Pod.Annotations = map[string]string{prefix + "inject": "false"}
	r := explainOK(t, in)
	if hasRow(r, "tilt-lib version") || r.Decision.Status != "skipped:opted_out" {
		t.Errorf("opted out: %+v", r)
	}
}

// recordedPod is in's Pod as the webhook admitted it with the options o.
func recordedPod(t *testing.T, in Input, o mutate.Options, created time.Time) Input {
	t.Helper()
	res := mutate.Mutate(o, mutate.Request{Namespace: "team-a", NamespaceAnnotations: in.NamespaceAnnotations, Pod: in.Pod, ConfigMaps: in.ConfigMaps})
	p, err := applyPatch(admitted(t, in, created), res)
	if err != nil {
		t.Fatal(err)
	}
	in.Pod, in.Admitted = p, true
	return in
}

func TestRecorded(t *testing.T) {
	after := registered.Add(time.Hour)
	t.Run("as now", func(t *testing.T) {
		in := baseInput()
		in = recordedPod(t, in, in.Options, after)
		r := explainOK(t, in)
		check(t, r, want{layer: LayerRecorded, result: OK, detail: []string{"created with tilt-lib 2.0.1 (tilt-lib-v2), tilt-templates (tilt-templates), as now"}})
		if r.Recorded == nil || r.Recorded.Record.Component("tilt-lib").ConfigMap != "tilt-lib-v2" || r.Recorded.Status != "injected" {
			t.Errorf("recorded: %+v", r.Recorded)
		}
	})
	t.Run("old version loading", func(t *testing.T) {
		in := baseInput()
		old := in.Options
		old.Aliases = map[string]string{"stable": "default"} // stable pointed at the unversioned ConfigMap then
		in = recordedPod(t, in, old, after)
		check(t, explainOK(t, in), want{layer: LayerRecorded, result: Warning,
			detail: []string{"created with tilt-lib 1.4.0 (tilt-lib), tilt-templates (tilt-templates); a restart now gives tilt-lib-v2, tilt-templates"},
			hint:   []string{"old version loading"}})
	})
	t.Run("created before the webhook", func(t *testing.T) {
		in := baseInput()
		in.Pod, in.Admitted, in.Webhook = admitted(t, in, registered.Add(-time.Hour)), true, liveWebhook()
		check(t, explainOK(t, in), want{layer: LayerRecorded, result: Error,
			detail: []string{"created before the webhook: the Pod was created 2026-01-01T23:00:00Z, tilt-lib-injector was registered 2026-01-02T00:00:00Z"},
			hint:   []string{"restart the workspace", "a restart now gives tilt-lib-v2, tilt-templates"}})
	})
	t.Run("created in the second of the registration", func(t *testing.T) {
		in := baseInput()
		in.Pod, in.Admitted, in.Webhook = admitted(t, in, registered), true, liveWebhook()
		check(t, explainOK(t, in), want{layer: LayerRecorded, result: Error, detail: []string{"created before the webhook"}, hint: []string{"restart"}})
	})
	t.Run("never seen after registration", func(t *testing.T) {
		in := baseInput()
		in.Pod, in.Admitted, in.Webhook = admitted(t, in, after), true, liveWebhook()
		check(t, explainOK(t, in), want{layer: LayerRecorded, result: Error, detail: []string{"the webhook never saw this Pod"}, hint: []string{"restart"}})
	})
	t.Run("skipped then, injected now", func(t *testing.T) {
		in := baseInput()
		in.Pod = admitted(t, in, after)
		in.Pod.Annotations = map[string]string{prefix + "status": "skipped:opted_out"}
		in.Admitted = true
		check(t, explainOK(t, in), want{layer: LayerRecorded, result: Warning, detail: []string{"created skipped:opted_out; a restart now gives tilt-lib-v2"}, hint: []string{"restart"}})
	})
}

func TestStragglers(t *testing.T) {
	in := baseInput()
	in.Subject = Subject{Kind: "namespace", Namespace: "team-a"}
	current := recordedPod(t, baseInput(), in.Options, registered).Pod
	old := baseInput().Options
	old.Aliases = map[string]string{"stable": "default"}
	behind := recordedPod(t, baseInput(), old, registered).Pod
	behind.Name = "ws-old"
	never := baseInput().Pod
	never.Name = "ws-never"
	other := baseInput().Pod
	other.Name, other.Labels = "not-a-workspace", nil
	in.Stragglers = []*corev1.Pod{current, behind, never, other}
	check(t, explainOK(t, in), want{layer: LayerStragglers, result: Warning,
		detail: []string{"2 of 3 workspace Pods run another choice", "ws-old (tilt-lib 1.4.0 (tilt-lib), tilt-templates (tilt-templates); now tilt-lib-v2, tilt-templates)", "ws-never (never injected"},
		hint:   []string{"restart them"}})
	in.Stragglers = in.Stragglers[:1]
	check(t, explainOK(t, in), want{layer: LayerStragglers, result: OK, detail: []string{"1 workspace Pods, none behind"}})
}

func TestServer(t *testing.T) {
	in := baseInput()
	same := recordedPod(t, baseInput(), in.Options, registered).Pod
	in.Server = &Server{Pod: same}
	check(t, explainOK(t, in), want{layer: LayerServer, result: OK, detail: []string{"answered injected: tilt-lib-v2, tilt-templates"}})

	old := in.Options
	old.Aliases = map[string]string{"stable": "default"}
	in.Server = &Server{Pod: recordedPod(t, baseInput(), old, registered).Pod}
	check(t, explainOK(t, in), want{layer: LayerServer, result: Error, detail: []string{"the deployed webhook mounted tilt-lib 1.4.0 (tilt-lib)"}, hint: []string{"Deployment args"}})

	in.Server = &Server{Pod: baseInput().Pod}
	check(t, explainOK(t, in), want{layer: LayerServer, result: Error, detail: []string{"answered nothing (no status annotation), explain decided injected"}})

	in.Server = &Server{Err: "connection refused"}
	check(t, explainOK(t, in), want{layer: LayerServer, result: Error, detail: []string{"the dry run failed: connection refused"}})

	// A Pod no selector picks: the deployed webhook leaves it alone too.
	in.Pod.Labels = map[string]string{"app": "other"}
	in.Server = &Server{Pod: in.Pod}
	check(t, explainOK(t, in), want{layer: LayerServer, result: OK, detail: []string{"not selected by the deployed webhook either"}})
}

func TestExitCode(t *testing.T) {
	rep := func(rs ...Result) Report {
		var r Report
		for _, x := range rs {
			r.Checks = append(r.Checks, Check{Result: x})
		}
		return r
	}
	tests := []struct {
		reports []Report
		strict  bool
		want    int
	}{
		{[]Report{rep(OK, OK)}, true, ExitOK},
		{[]Report{rep(OK, Warning)}, false, ExitOK},
		{[]Report{rep(OK, Warning)}, true, ExitWarning},
		{[]Report{rep(Warning), rep(Error)}, true, ExitError},
		{[]Report{rep(Error)}, false, ExitError},
		{nil, true, ExitOK},
	}
	for i, tt := range tests {
		if got := ExitCode(tt.reports, tt.strict); got != tt.want {
			t.Errorf("%d: ExitCode = %d, want %d", i, got, tt.want)
		}
	}
}

// The version row goes alias → rollout → arm, from the trace: a workspace in the canary of the
// rollout on stable, and one in the baseline.
func TestRolloutSteps(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want []string
	}{
		{"00000000-0000-0000-0000-000000000002", []string{"placed by a rollout: tilt-lib-v3 (3.0.0); rollout tilt-lib-v3 on alias stable: bucket", "→ arm canary, tilt-lib-v3"}},
		{"00000000-0000-0000-0000-000000000001", []string{"namespace team-a pins stable → alias stable = v2 (2.0.1); rollout tilt-lib-v3 on alias stable: bucket", "→ arm baseline, tilt-lib-v2"}},
	} {
		in := baseInput()
		snap, err := versions.Build([]byte("aliases: {stable: v2}\nrollouts:\n- {name: tilt-lib-v3, from: stable, to: v3, percent: \"50\"}\n"), in.Options)
		if err != nil {
			t.Fatal(err)
		}
		snap.Apply(&in.Options)
		in.Pod.Labels["com.coder.workspace.id"] = tt.id
		in.ConfigMaps = lookup{"team-a/tilt-lib-v2": "2.0.1", "team-a/tilt-lib-v3": "3.0.0", "team-a/tilt-templates": ""}
		r := explainOK(t, in)
		check(t, r, want{layer: "tilt-lib version", result: OK, detail: tt.want})
		if !slices.ContainsFunc(r.Decision.Steps, func(s mutate.Step) bool { return s.Kind == mutate.StepRollout && s.Component == "tilt-lib" }) {
			t.Errorf("no rollout step in %+v", r.Decision.Steps)
		}
	}
}
