package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
	tlinject "github.com/platform-tools/tilt-lib-injector/pkg/inject"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// explainTimeout bounds the whole of a live explain: a handful of reads and one dry run.
const explainTimeout = 30 * time.Second

// explainFlags are explain's own flags; the configuration flags (--default-version, --alias, …)
// come from tlconfig and are used offline or with --from-flags.
type explainFlags struct {
	namespace, output, kubeconfig, webhookConfig string
	newPod, strict, server, fromFlags            bool
	labels, annotations                          []string
	files                                        []string
	nsFile, cmFile, versionsFile                 string
}

// exitStatus is an exit code other than 0 and 1 (explain's 3 and 4): run returns it silently.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// explainCmd answers why a workspace got (or would get) its library version: the webhook's own
// decision, one row per layer. Exit 0: no ×; 3: some ×; 4: only ‼ and --strict; 1: usage or access.
func explainCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flagSet("explain", stderr)
	var f explainFlags
	fs.StringVarP(&f.namespace, "namespace", "n", "", "namespace of the object (live modes; default: the kubeconfig context's, else default)")
	fs.BoolVar(&f.newPod, "new", false, "explain a hypothetical new workspace Pod in -n NS, labelled with -l and annotated with --annotation")
	fs.StringArrayVarP(&f.labels, "label", "l", nil, "with --new: a label k=v of the Pod, repeatable (default: the --workspace-selector's labels)")
	fs.StringArrayVar(&f.annotations, "annotation", nil, "with --new: an annotation k=v of the Pod, repeatable")
	fs.StringArrayVarP(&f.files, "filename", "f", nil, "offline: Pod or workload YAML/JSON file, directory or - (as inject's -f); no cluster is read")
	fs.StringVar(&f.nsFile, "namespace-file", "", "offline: the Namespaces whose annotations apply (as inject's)")
	fs.StringVar(&f.cmFile, "configmaps-file", "", "offline: the ConfigMaps that exist (as inject's)")
	fs.StringVar(&f.versionsFile, "versions-file", "", "offline or --from-flags: the versions document (as inject's)")
	fs.StringVarP(&f.output, "output", "o", "table", "table (LAYER RESULT DETAIL rows, √ ‼ ×, hints) or json (the documented schema)")
	fs.BoolVar(&f.strict, "strict", false, "exit 4 when a row is ‼ and none is ×")
	fs.BoolVar(&f.server, "server", false, "live: also create the Pod with a server-side dry run through the deployed webhook and compare (× when they differ)")
	fs.BoolVar(&f.fromFlags, "from-flags", false, "live: decide with this command's configuration flags instead of the deployed webhook's Deployment args")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default $KUBECONFIG, in-cluster, ~/.kube/config)")
	fs.StringVar(&f.webhookConfig, "webhook-config-name", "tilt-lib-injector", "the MutatingWebhookConfiguration to read")
	cfg, err := load(fs, args, os.LookupEnv, tlconfig.LoadInject)
	if err != nil {
		return err
	}
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: want table or json", f.output)
	}
	target, err := explainTarget(fs, f)
	if err != nil {
		return err
	}
	var reports []explain.Report
	if len(f.files) > 0 {
		reports, err = explainFiles(f, cfg, stdin)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), explainTimeout)
		defer cancel()
		reports, err = explainLive(ctx, f, cfg, target)
	}
	if err != nil {
		return err
	}
	if f.output == "json" {
		err = explain.WriteJSON(stdout, reports, f.strict)
	} else {
		err = explain.WriteTable(stdout, reports)
	}
	if err != nil {
		return err
	}
	if code := explain.ExitCode(reports, f.strict); code != 0 {
		return exitStatus(code)
	}
	return nil
}

// target is what a live explain reads: KIND/NAME, or a new Pod.
type target struct {
	kind, name string // kind is canonical: pod, deployment, …, namespace, new
}

// kinds maps what kubectl accepts to the kinds explain reads.
var kinds = map[string]string{
	"pod": "pod", "pods": "pod", "po": "pod",
	"deploy": "deployment", "deployment": "deployment", "deployments": "deployment",
	"sts": "statefulset", "statefulset": "statefulset", "statefulsets": "statefulset",
	"ds": "daemonset", "daemonset": "daemonset", "daemonsets": "daemonset",
	"rs": "replicaset", "replicaset": "replicaset", "replicasets": "replicaset",
	"job": "job", "jobs": "job",
	"cj": "cronjob", "cronjob": "cronjob", "cronjobs": "cronjob",
	"ns": "namespace", "namespace": "namespace", "namespaces": "namespace",
}

// explainTarget checks that exactly one mode is asked for and returns the live target.
func explainTarget(fs *pflag.FlagSet, f explainFlags) (target, error) {
	offline := len(f.files) > 0
	switch {
	case offline && (f.newPod || fs.NArg() > 0):
		return target{}, errors.New("-f explains the files' objects offline: give no KIND/NAME and no --new with it")
	case offline && (f.server || f.fromFlags):
		return target{}, errors.New("--server and --from-flags read the cluster: not with -f")
	case !offline && (f.nsFile != "" || f.cmFile != ""):
		return target{}, errors.New("--namespace-file and --configmaps-file are for -f (offline)")
	case !offline && f.versionsFile != "" && !f.fromFlags:
		return target{}, errors.New("--versions-file is for -f or --from-flags: live, the deployed webhook's versions document is read")
	case offline:
		return target{}, nil
	case f.newPod && fs.NArg() > 0:
		return target{}, fmt.Errorf("--new explains a hypothetical Pod: unexpected argument %q", fs.Arg(0))
	case !f.newPod && (len(f.labels) > 0 || len(f.annotations) > 0):
		return target{}, errors.New("-l and --annotation describe the --new Pod")
	case f.newPod && f.namespace == "":
		return target{}, errors.New("--new needs -n NAMESPACE")
	case f.newPod:
		return target{kind: "new"}, nil
	case fs.NArg() == 0:
		return target{}, errors.New("what to explain: pod/NAME, deploy|sts|ds|rs|job|cronjob/NAME, namespace/NS, --new -n NS, or -f FILE (see webhook explain --help)")
	case fs.NArg() > 1:
		return target{}, fmt.Errorf("unexpected argument %q: explain one object at a time", fs.Arg(1))
	}
	kind, name, ok := strings.Cut(fs.Arg(0), "/")
	canonical, known := kinds[strings.ToLower(kind)]
	switch {
	case !ok || name == "":
		return target{}, fmt.Errorf("%q: want KIND/NAME, e.g. pod/ws-1 or deploy/coder-alice", fs.Arg(0))
	case !known:
		return target{}, fmt.Errorf("unknown kind %q: want pod, deploy, sts, ds, rs, job, cronjob or namespace", kind)
	}
	return target{kind: canonical, name: name}, nil
}

// keyValues parses repeated k=v flags.
func keyValues(flag string, kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

// explainFiles explains every Pod and workload of -f with the local configuration: inject's
// readers and bounds, inject's Namespace and ConfigMap rules.
func explainFiles(f explainFlags, cfg tlconfig.Config, stdin io.Reader) ([]explain.Report, error) {
	opts, err := localOptions(cfg, f.versionsFile)
	if err != nil {
		return nil, err
	}
	loaded, err := tlinject.Read(tlinject.Options{
		Mutate: opts, VersionLabel: cfg.VersionLabel, WorkspaceSelector: cfg.WorkspaceSelector,
		ConfigMapSelector: cfg.ConfigMapSelector, Filenames: f.files, NamespaceFile: f.nsFile,
		ConfigMapsFile: f.cmFile, InputName: "stdin",
	}, stdin)
	if err != nil {
		return nil, err
	}
	sel, err := labels.Parse(cfg.WorkspaceSelector) // validated by Load
	if err != nil {
		return nil, fmt.Errorf("--workspace-selector: %w", err)
	}
	var reports []explain.Report
	for _, s := range loaded.Subjects {
		r, err := explain.Explain(explain.Input{
			Options: opts, Workspaces: sel, Subject: explain.Subject{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name},
			Pod: s.Pod, NamespaceAnnotations: s.NamespaceAnnotations, ConfigMaps: loaded.ConfigMaps,
		})
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", s.Kind, s.Name, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// localOptions are the mutation options of this command's own flags, with the aliases of
// --versions-file when given.
func localOptions(cfg tlconfig.Config, versionsFile string) (mutate.Options, error) {
	opts := cfg.MutateOptions()
	if versionsFile != "" {
		snap, err := readVersionsFile(versionsFile, opts)
		if err != nil {
			return opts, err
		}
		snap.Apply(&opts) // aliases and rollouts, as serve
	}
	return opts, nil
}
