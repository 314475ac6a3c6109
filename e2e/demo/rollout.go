package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// versionsConfigMap is the document the demo's webhook watches, as the chart's
// `<fullname>-versions` (examples/rollout/versions.yaml creates it).
const versionsConfigMap = "tilt-lib-injector/tilt-lib-injector-versions"

// versionsFlag makes the demo's webhook watch it. Absent until the rollout section, it is the
// empty document, so the webhook is ready without it.
const versionsFlag = "--versions-configmap=" + versionsConfigMap

// rolloutWorkspaces are the demo's canary workspaces: Coder's workspace ids (the rollout's key).
const rolloutWorkspaces = 6

// showRollout applies examples/rollout/ (team-c on the alias stable, and the versions document
// rolling tilt-lib v3 out to 50 %), creates a handful of workspaces in team-c and prints where
// each landed, with the rollout's numbers from the webhook's metrics. image and pullNever say
// what the workspace Pods run (on the node) or nothing (API objects only).
func showRollout(ctx context.Context, out io.Writer, inj *harness.Injector, root, image string, pullNever bool) error {
	objs, err := inj.ApplyDir(ctx, filepath.Join(root, "examples", "rollout"))
	if err != nil {
		return fmt.Errorf("applying examples/rollout/: %w", err)
	}
	doc, err := documentOf(objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nA sticky canary rollout (examples/rollout/: %s). team-c pins the alias stable; the live\n", summarize(objs))
	fmt.Fprintf(out, "versions document (ConfigMap %s, no restart needed) says:\n", versionsConfigMap)
	for _, l := range strings.Split(strings.TrimRight(doc, "\n"), "\n") {
		fmt.Fprintf(out, "  %s\n", l)
	}
	if err := waitRolloutServed(ctx, inj); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tWORKSPACE ID\tBUCKET\tARM\tTILT-LIB")
	for i := 1; i <= rolloutWorkspaces; i++ {
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		pod := harness.WorkspacePod(fmt.Sprintf("coder-ws-%d", i), nil)
		pod.Labels[rollout.LabelWorkspaceID] = id
		for c := range pod.Spec.Containers {
			if image != "" {
				pod.Spec.Containers[c].Image = image
			}
			if pullNever {
				pod.Spec.Containers[c].ImagePullPolicy = corev1.PullNever
			}
		}
		created, err := inj.Client.CoreV1().Pods("team-c").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating workspace %s in team-c: %w", id, err)
		}
		rec, _, err := harness.InjectedRecord(created)
		if err != nil {
			return err
		}
		arm, bucket := "-", "-"
		if rec.Lib != nil && rec.Lib.Rollout != nil {
			arm, bucket = string(rec.Lib.Rollout.Arm), fmt.Sprint(rec.Lib.Rollout.Bucket)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", created.Name, id, bucket, arm, harness.Show(rec.Lib))
	}
	_ = tw.Flush()
	fmt.Fprintln(out, "(BUCKET: the workspace id's bucket, 0-9999, for the rollout's salt; below 50 % x 100 = 5000 is the canary.")
	fmt.Fprintln(out, " Recreated, a workspace lands in the same arm: raise the percent and only new canaries join.)")
	sn, err := waitRolloutGauge(ctx, inj)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe rollout in the webhook's metrics:")
	for _, l := range sn.Lines(harness.InjectionsTotal) {
		if strings.Contains(l, `source="rollout"`) {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	for _, l := range sn.Lines(rolloutPercent, rolloutWorkspacesGauge) {
		if strings.Contains(l, `component="tilt-lib"`) || strings.HasPrefix(l, rolloutPercent) {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	arm := func(a rollout.Arm) float64 {
		return sn.Get(harness.Series{Name: rolloutWorkspacesGauge, Labels: map[string]string{"rollout": "tilt-lib-v3", "component": "tilt-lib", "arm": string(a)}})
	}
	var all float64
	for _, a := range []rollout.Arm{rollout.ArmCanary, rollout.ArmBaseline, rollout.ArmPending, rollout.ArmReverted, rollout.ArmNoKey, rollout.ArmUnavailable} {
		all += arm(a)
	}
	target := sn.Get(harness.Series{Name: rolloutPercent, Labels: map[string]string{"rollout": "tilt-lib-v3"}})
	fmt.Fprintln(out, "\nThe dashboard's Rollouts row (tilt-lib-v3, tilt-lib):")
	fmt.Fprintf(out, "  target %g %%, running the canary %.1f %% (canary+reverted), assigned %.1f %% (canary+pending), of %g workspaces\n",
		target, 100*(arm(rollout.ArmCanary)+arm(rollout.ArmReverted))/all, 100*(arm(rollout.ArmCanary)+arm(rollout.ArmPending))/all, all)
	return nil
}

// The rollout gauges (docs/design.md, "Metrics").
const (
	rolloutPercent         = "tiltlib_rollout_percent"
	rolloutWorkspacesGauge = "tiltlib_rollout_workspaces"
)

// waitRolloutGauge waits until the webhook's Pod cache has every demo workspace in the rollout's
// gauge (its informer may lag the last create by a watch event) and returns that scrape.
func waitRolloutGauge(ctx context.Context, inj *harness.Injector) (harness.Snapshot, error) {
	var sn harness.Snapshot
	var counted float64
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		if sn, err = inj.Scrape(ctx); err != nil {
			return false, err
		}
		counted = 0
		for _, l := range sn.Lines(rolloutWorkspacesGauge) {
			if strings.Contains(l, `component="tilt-lib"`) {
				var v float64
				if _, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v); err == nil {
					counted += v
				}
			}
		}
		return counted == rolloutWorkspaces, nil
	})
	if err != nil {
		return sn, fmt.Errorf("the webhook's %s never counted the %d rollout workspaces (last: %g): %w", rolloutWorkspacesGauge, rolloutWorkspaces, counted, err)
	}
	return sn, nil
}

// documentOf returns the versions document examples/rollout/ applies.
func documentOf(objs []*unstructured.Unstructured) (string, error) {
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetNamespace()+"/"+o.GetName() == versionsConfigMap {
			doc, _, err := unstructured.NestedString(o.Object, "data", "versions.yaml")
			if err == nil && doc != "" {
				return doc, nil
			}
		}
	}
	return "", fmt.Errorf("examples/rollout/ has no versions document %s", versionsConfigMap)
}

// waitRolloutServed waits until the webhook's metrics say it serves a valid document other than
// the empty one (the watch delivers the ConfigMap within a second or two).
func waitRolloutServed(ctx context.Context, inj *harness.Injector) error {
	var last string
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		sn, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		last = strings.Join(sn.Lines("tiltlib_versions_document_serving"), "; ")
		return sn.Get(harness.Series{Name: "tiltlib_versions_document_valid", Labels: map[string]string{}}) == 1 &&
			last != "" && !strings.Contains(last, `hash="none"`), nil
	})
	if err != nil {
		return fmt.Errorf("the webhook never served examples/rollout/versions.yaml (last: %s): %w", last, err)
	}
	return nil
}
