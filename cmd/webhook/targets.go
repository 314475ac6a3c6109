package main

import (
	"context"

	"github.com/go-logr/logr"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// warnMissingTargets runs once the ConfigMap store has synced: it reads the names of our stored
// ConfigMaps (every target is one of ours) and logs mutate.Options.MissingTargets, one warning
// per configured default or alias whose ConfigMap no namespace has (a typo such as
// --default-version stabel is otherwise silent: the volume is optional, so every workspace starts
// with an empty mount). It never fails the server: the ConfigMaps may simply not be applied yet.
// With --configmap-selector the warning says that only marked ConfigMaps count: right after the
// selector is turned on, an unmarked default is the likelier cause than a typo.
type warnMissingTargets struct {
	configMaps *lookup.ConfigMapStore
	options    mutate.Options
	selector   string // --configmap-selector
	log        logr.Logger
}

// Start implements manager.Runnable.
func (w warnMissingTargets) Start(ctx context.Context) error {
	if !w.configMaps.WaitForSync(ctx) {
		return nil // stopped before the store synced
	}
	seen := map[string]bool{}
	w.configMaps.Range(func(k lookup.ConfigMapKey, _ string) { seen[k.Name] = true })
	// The store holds our ConfigMaps of every namespace.
	for _, warning := range w.options.MissingTargets(func(cm string) bool { return seen[cm] }, mutate.AmongMarked("any namespace", w.selector)) {
		w.log.Info("warning: " + warning)
	}
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves reviews.
func (w warnMissingTargets) NeedLeaderElection() bool { return false }
