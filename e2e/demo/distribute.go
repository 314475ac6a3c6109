package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The distribution example: the platform namespace holds the library, team-d only its label.
const (
	platformNS  = "platform"
	distTarget  = "team-d"
	distLabel   = "tilt-lib.platform/workspaces=true"
	distLibName = "tilt-lib"
)

// showDistribution applies examples/distribution/, runs `webhook distribute` (as its own process,
// as the chart runs it as its own Deployment) for the namespaces labelled distLabel, and shows
// team-d's workspace mounting the copy without a configmap_missing warning, then a deleted copy
// coming back. The distributor is stopped (by PID) when the demo ends: the returned stop.
func showDistribution(ctx context.Context, out io.Writer, inj *harness.Injector, root string, flags []string, image string, pullNever bool) (stop func() error, err error) {
	objs, err := inj.ApplyDir(ctx, filepath.Join(root, "examples", "distribution"))
	if err != nil {
		return nil, fmt.Errorf("applying examples/distribution/: %w", err)
	}
	_, probe, err := harness.SideAddrs()
	if err != nil {
		return nil, err
	}
	args := append([]string{"distribute", "--kubeconfig=" + inj.Kubeconfig, "--source-namespace=" + platformNS,
		"--namespace-selector=" + distLabel, "--lease-namespace=" + inj.Service.Namespace,
		"--metrics-bind-address=0", "--health-probe-bind-address=" + probe}, flags...)
	d := &harness.Webhook{Binary: inj.Webhook.Binary, Args: args, ProbeAddr: probe, LogPath: filepath.Join(inj.WorkDir, "distribute.log")}
	fmt.Fprintf(out, "\nThe library reaches a namespace that publishes nothing (examples/distribution/: %s). Argo CD syncs\n", summarize(objs))
	fmt.Fprintf(out, "it into %q only; the distributor copies it into every namespace labelled %s:\n", platformNS, distLabel)
	fmt.Fprintf(out, "  %s\n", strings.Join(append([]string{"webhook distribute --source-namespace=" + platformNS, "--namespace-selector=" + distLabel}, flags...), " "))
	start := time.Now()
	if err := d.Start(ctx, time.Minute); err != nil {
		return nil, fmt.Errorf("starting the distributor: %w", err)
	}
	stop = func() error { return d.Stop(30 * time.Second) }
	cms := inj.Client.CoreV1().ConfigMaps(distTarget)
	copied := func(ctx context.Context) (bool, error) {
		l, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tilt-lib-injector"})
		return err == nil && len(l.Items) == 2, err
	}
	if err := harness.Poll(ctx, time.Minute, copied); err != nil {
		return stop, fmt.Errorf("the distributor never copied the library into %s (log %s): %w", distTarget, d.LogPath, err)
	}
	fmt.Fprintf(out, "Copies of tilt-lib and tilt-templates in %s %s after the distributor started (leader election included).\n", distTarget, time.Since(start).Round(100*time.Millisecond))

	client, warnings, err := harness.WarningClient(inj.Config)
	if err != nil {
		return stop, err
	}
	pod := harness.WorkspacePod("coder-dana-dev", nil)
	for c := range pod.Spec.Containers {
		if image != "" {
			pod.Spec.Containers[c].Image = image
		}
		if pullNever {
			pod.Spec.Containers[c].ImagePullPolicy = corev1.PullNever
		}
	}
	created, err := client.CoreV1().Pods(distTarget).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return stop, fmt.Errorf("creating team-d's workspace: %w", err)
	}
	rec, _, err := harness.InjectedRecord(created)
	if err != nil {
		return stop, err
	}
	missing := 0
	for _, w := range warnings.Take() {
		if strings.Contains(w, "configmap_missing") {
			missing++
		}
	}
	fmt.Fprintf(out, "Workspace %s/%s mounts %s and %s; configmap_missing warnings: %d.\n",
		distTarget, created.Name, harness.Show(rec.Lib), harness.Show(rec.Templates), missing)

	deleted := time.Now()
	if err := cms.Delete(ctx, distLibName, metav1.DeleteOptions{}); err != nil {
		return stop, fmt.Errorf("deleting the copy: %w", err)
	}
	back := func(ctx context.Context) (bool, error) {
		_, err := cms.Get(ctx, distLibName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
	if err := harness.Poll(ctx, time.Minute, back); err != nil {
		return stop, fmt.Errorf("the deleted copy never came back: %w", err)
	}
	fmt.Fprintf(out, "Deleted the copy %s/%s: the distributor restored it within %s.\n", distTarget, distLibName, time.Since(deleted).Round(10*time.Millisecond))
	return stop, nil
}
