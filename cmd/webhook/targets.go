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

// missingTargets returns one warning per configured target that no namespace has a ConfigMap
// for: a server default (--default-version, --default-templates-version) or an alias target. A
// typo such as --default-version stabel is otherwise silent: the volume is optional, so every
// workspace starts with an empty mount. seen holds the ConfigMap names of every namespace.
//
// The names follow pkg/mutate's resolution (defaultCandidate, candidate): an alias maps a value
// to a version, "default" and "" mean the unversioned <base>, anything else <base>-<version>.
// Invalid values never get here: Config.Validate rejects them.
func missingTargets(o mutate.Options, seen map[string]bool) []string {
	name := func(base, v string) string {
		if a, ok := o.Aliases[v]; ok {
			v = a
		}
		if v == "" || v == mutate.DefaultVersionName {
			return base
		}
		return base + "-" + v
	}
	var warnings []string
	for _, d := range []struct {
		flag string
		c    mutate.ComponentOptions
	}{{"--default-version", o.Lib}, {"--default-templates-version", o.Templates}} {
		if cm := name(d.c.ConfigMap, d.c.DefaultVersion); !seen[cm] {
			warnings = append(warnings, fmt.Sprintf("%s %q: no ConfigMap %q in any namespace; until one exists, workspaces get an empty %s (a typo?)",
				d.flag, d.c.DefaultVersion, cm, d.c.MountPath))
		}
	}
	// An alias may be meant for one component only, so it is missing when neither has it.
	aliases := make([]string, 0, len(o.Aliases))
	for a := range o.Aliases {
		aliases = append(aliases, a)
	}
	slices.Sort(aliases)
	for _, a := range aliases {
		lib, tpl := name(o.Lib.ConfigMap, a), name(o.Templates.ConfigMap, a)
		if !seen[lib] && !seen[tpl] {
			warnings = append(warnings, fmt.Sprintf("--alias %s=%s: neither ConfigMap %q nor %q in any namespace (a typo?)",
				a, o.Aliases[a], lib, tpl))
		}
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
