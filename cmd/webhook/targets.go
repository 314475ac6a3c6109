package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// missingTargets returns one warning per configured target (mutate.Options.Targets: a server
// default or an alias target) that no namespace has a ConfigMap for. A typo such as
// --default-version stabel is otherwise silent: the volume is optional, so every workspace starts
// with an empty mount. seen holds the ConfigMap names of every namespace.
func missingTargets(o mutate.Options, seen map[string]bool) []string {
	var warnings []string
	for _, t := range o.Targets() {
		if slices.ContainsFunc(t.ConfigMaps, func(cm string) bool { return seen[cm] }) {
			continue
		}
		if t.Flag == "--alias" {
			warnings = append(warnings, fmt.Sprintf("--alias %s=%s: neither ConfigMap %q nor %q in any namespace (a typo?)",
				t.Name, t.Value, t.ConfigMaps[0], t.ConfigMaps[1]))
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s %q: no ConfigMap %q in any namespace; until one exists, workspaces get an empty %s (a typo?)",
			t.Flag, t.Value, t.ConfigMaps[0], t.MountPath))
	}
	return warnings
}

// warnMissingTargets runs once the ConfigMap store has synced: it reads the names of our stored
// ConfigMaps (every target is one of ours) and logs missingTargets. It never fails the server:
// the ConfigMaps may simply not be applied yet.
type warnMissingTargets struct {
	configMaps *lookup.ConfigMapStore
	options    mutate.Options
	log        logr.Logger
}

// Start implements manager.Runnable.
func (w warnMissingTargets) Start(ctx context.Context) error {
	if !w.configMaps.WaitForSync(ctx) {
		return nil // stopped before the store synced
	}
	seen := map[string]bool{}
	w.configMaps.Range(func(k lookup.ConfigMapKey, _ string) { seen[k.Name] = true })
	for _, warning := range missingTargets(w.options, seen) {
		w.log.Info("warning: " + warning)
	}
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves reviews.
func (w warnMissingTargets) NeedLeaderElection() bool { return false }
