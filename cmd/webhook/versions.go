package main

import (
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/events"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// Event reason and action of a refused versions document.
const (
	reasonVersionsInvalid = "VersionsDocumentInvalid"
	actionVersions        = "Validate"
	// maxEventNote is the events.k8s.io/v1 note limit (1 KiB): longer lists of errors are cut.
	maxEventNote = 1024
)

// versionsLive returns the Live the reviews and the rollout gauge read, serving the empty
// snapshot until watchVersions' first state; nil without --versions-configmap (the --alias flags
// alone). It exists before the manager: the Pod cache's transform keeps rollout entries only
// when a document can name rollouts.
func versionsLive(cfg tlconfig.Config) *versions.Live {
	if _, name := cfg.VersionsObject(); name == "" {
		return nil
	}
	return versions.NewLive(cfg.MutateOptions())
}

// watchVersions adds the watch of --versions-configmap to mgr, keeping live current, and returns
// the conditions reviews and readiness wait for (the document's first state known and a good
// snapshot in force). With live nil (no flag): nil.
func watchVersions(mgr manager.Manager, rc *rest.Config, cfg tlconfig.Config, live *versions.Live, rec events.Recorder, log logr.Logger) ([]func() bool, error) {
	ns, name := cfg.VersionsObject()
	if live == nil {
		return nil, nil
	}
	m, err := metrics.NewVersions(ctrlmetrics.Registry)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfigAndClient(rc, mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("creating the versions document client: %w", err)
	}
	log = log.WithValues("configMap", cfg.VersionsConfigMap)
	w := versions.NewWatcher(live, cs, ns, name, func(c versions.Change) { reportVersions(c, m, rec, log) })
	if err := mgr.Add(w); err != nil {
		return nil, fmt.Errorf("adding the versions document watch: %w", err)
	}
	return []func() bool{w.HasSynced, live.Ready}, nil
}

// reportVersions makes one change of the document visible: the metrics (the target percent of
// each rollout re-set from the snapshot in force), a log line, and for a refused document a Warning Event on its ConfigMap listing every error.
func reportVersions(c versions.Change, m *metrics.Versions, rec events.Recorder, log logr.Logger) {
	m.Serving(c.Serving.Hash, c.Outcome != versions.KeptInvalid)
	m.Rollouts(rolloutTargets(c.Serving))
	switch c.Outcome {
	case versions.Served:
		log.Info("serving the versions document", "hash", c.Serving.Hash, "aliases", len(c.Serving.Aliases), "rollouts", len(c.Serving.Rollouts))
	case versions.KeptDeleted:
		log.Info("versions document deleted; keeping the last good one until it is back", "hash", c.Serving.Hash)
	case versions.KeptInvalid:
		m.Refused()
		log.Error(c.Err, "versions document refused; keeping the last good one", "hash", c.Serving.Hash)
		if c.ConfigMap != nil && rec != nil {
			rec.Eventf(c.ConfigMap, nil, corev1.EventTypeWarning, reasonVersionsInvalid, actionVersions, "%s", eventNote(c.Err, c.Serving.Hash))
		}
	}
}

// rolloutTargets are the snapshot's rollouts as tiltlib_rollout_percent shows them.
func rolloutTargets(s *versions.Snapshot) []metrics.RolloutTarget {
	ts := make([]metrics.RolloutTarget, len(s.Rollouts))
	for i, r := range s.Rollouts {
		ts[i] = metrics.RolloutTarget{Name: r.Name, Basis: r.Percent.Basis}
	}
	return ts
}

// eventNote lists every error of a refused document within the Event note limit.
func eventNote(err error, serving string) string {
	note := "refused, still serving document " + serving + ": " + strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(note) > maxEventNote {
		note = strings.ToValidUTF8(note[:maxEventNote-len(" …")], "") + " …" // never half a rune
	}
	return note
}
