package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// syncedLister is the part of the manager's cache.Cache the check uses.
type syncedLister interface {
	WaitForCacheSync(ctx context.Context) bool
	List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error
}

// warnMissingTargets runs once the caches have synced: it lists the cached ConfigMap names and
// logs missingTargets. It never fails the server: the ConfigMaps may simply not be applied yet.
type warnMissingTargets struct {
	cache   syncedLister
	options mutate.Options
	log     logr.Logger
}

// Start implements manager.Runnable.
func (w warnMissingTargets) Start(ctx context.Context) error {
	if !w.cache.WaitForCacheSync(ctx) {
		return nil // stopped before the caches synced
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := w.cache.List(ctx, list); err != nil {
		w.log.Error(err, "listing cached ConfigMaps to check the configured versions")
		return nil
	}
	seen := make(map[string]bool, len(list.Items))
	for _, cm := range list.Items {
		seen[cm.Name] = true
	}
	for _, warning := range missingTargets(w.options, seen) {
		w.log.Info("warning: " + warning)
	}
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves reviews.
func (w warnMissingTargets) NeedLeaderElection() bool { return false }
