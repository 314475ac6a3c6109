package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// row is one line of the demo's table.
type row struct {
	Namespace, Pod string
	Lib, Templates *mutate.RecordComponent
	Status         string
}

// workspaces creates one Pod per applied Deployment and reads back what the webhook gave it.
func workspaces(ctx context.Context, inj *harness.Injector, objs []*unstructured.Unstructured) ([]row, []string, error) {
	client, warnings, err := harness.WarningClient(inj.Config)
	if err != nil {
		return nil, nil, err
	}
	var rows []row
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			return nil, nil, fmt.Errorf("reading Deployment %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		if err := waitSeen(ctx, inj, &d, objs); err != nil {
			return nil, nil, err
		}
		created, err := client.CoreV1().Pods(d.Namespace).Create(ctx, harness.PodFromDeployment(&d), metav1.CreateOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("creating the Pod of Deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
		stored, err := inj.Client.CoreV1().Pods(d.Namespace).Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("reading Pod %s/%s: %w", d.Namespace, created.Name, err)
		}
		rec, _, err := harness.InjectedRecord(stored)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row{Namespace: stored.Namespace, Pod: stored.Name, Lib: rec.Lib, Templates: rec.Templates,
			Status: stored.Annotations[harness.KeyStatus]})
	}
	return rows, warnings.Take(), nil
}

// waitSeen waits until the webhook's informer caches hold what examples/ just created: a dry-run
// of the Deployment's Pod (never counted in metrics) resolves the ConfigMap the Namespace's pin
// selects, with the semantic versions read from the ConfigMaps. Without it the first Pod could
// race the watch that delivers its Namespace.
func waitSeen(ctx context.Context, inj *harness.Injector, d *appsv1.Deployment, objs []*unstructured.Unstructured) error {
	wantLib := "tilt-lib"
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GetName() == d.Namespace {
			if v := o.GetAnnotations()[harness.KeyVersion]; v != "" && published(objs, d.Namespace, "tilt-lib-"+v) {
				wantLib = "tilt-lib-" + v
			}
		}
	}
	var last string
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, d.Namespace, harness.PodFromDeployment(d))
		if err != nil {
			return false, err
		}
		rec, _, err := harness.InjectedRecord(p)
		if err != nil {
			return false, err
		}
		last = fmt.Sprintf("tilt-lib %s, tilt-templates %s", harness.Show(rec.Lib), harness.Show(rec.Templates))
		return rec.Lib != nil && rec.Lib.ConfigMap == wantLib && rec.Lib.Version != "" &&
			rec.Templates != nil && rec.Templates.Version != "", nil
	})
	if err != nil {
		return fmt.Errorf("the webhook never resolved %s for %s/%s (last: %s): %w", wantLib, d.Namespace, d.Name, last, err)
	}
	return nil
}

func published(objs []*unstructured.Unstructured, namespace, name string) bool {
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == namespace && o.GetName() == name {
			return true
		}
	}
	return false
}

// printTable writes the rows aligned. SOURCE is "<tilt-lib source>/<tilt-templates source>".
func printTable(out io.Writer, rows []row) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tPOD\tTILT-LIB\tTEMPLATES\tSOURCE\tSTATUS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Pod, harness.Show(r.Lib), harness.Show(r.Templates), source(r), r.Status)
	}
	_ = tw.Flush()
	fmt.Fprintln(out, "(SOURCE: which level chose the ConfigMap -- tilt-lib/tilt-templates: pod, namespace, default or fallback)")
}

func source(r row) string {
	lib, tmpl := "-", "-"
	if r.Lib != nil {
		lib = string(r.Lib.Source)
	}
	if r.Templates != nil {
		tmpl = string(r.Templates.Source)
	}
	return lib + "/" + tmpl
}

// stragglerName is the workspace created before the webhook was registered.
const stragglerName = "coder-carol-dev"

// createStraggler creates a workspace Pod in team-a while no registration sends it to the webhook.
func createStraggler(ctx context.Context, inj *harness.Injector) (*corev1.Pod, error) {
	pod, err := inj.Client.CoreV1().Pods("team-a").Create(ctx, harness.WorkspacePod(stragglerName, nil), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the straggler workspace: %w", err)
	}
	if status, ok := pod.Annotations[harness.KeyStatus]; ok {
		return nil, fmt.Errorf("the straggler %s/%s was reviewed by the webhook (status %q): it must predate the registration", pod.Namespace, pod.Name, status)
	}
	return pod, nil
}

// waitAdoption waits until the webhook's adoption gauge counts every workspace Pod the API server
// holds (its Pod informer may lag the last create by a watch event), and returns the adoption.
func waitAdoption(ctx context.Context, inj *harness.Injector) ([]adoption, error) {
	selector := harness.WorkspaceLabel + "=" + harness.WorkspaceValue
	var last []adoption
	var want int
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		pods, err := inj.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, fmt.Errorf("listing workspace Pods: %w", err)
		}
		want = len(pods.Items)
		sn, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		last = adoptionOf(podsSamples(sn.Families))
		for _, a := range last {
			if a.Total != want {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the webhook's %s never counted the %d workspace Pods (last: %+v): %w", podsGauge, want, last, err)
	}
	return last, nil
}
