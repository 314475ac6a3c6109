package distributor

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

// CleanupResult counts what a cleanup left and removed.
type CleanupResult struct {
	Deleted, Kept, Mounted int
}

// Cleanup applies the deletion rule once to every managed copy, without informers: each is an
// orphan (no source, no target). Unmarked copies are marked now, so with --grace 0 a second
// round deletes every copy no live Pod mounts; with a grace, copies stay until a later cleanup
// run after it. Copies still mounted are kept and reported.
func (c *Controller) Cleanup(ctx context.Context) (CleanupResult, error) {
	var res CleanupResult
	for round := 0; round < 2; round++ {
		var in distribute.Input
		opts := metav1.ListOptions{LabelSelector: distribute.ManagedByLabel + "=" + distribute.ManagedBy, Limit: 500}
		for {
			list, err := c.client.CoreV1().ConfigMaps("").List(ctx, opts)
			if err != nil {
				return res, fmt.Errorf("listing the copies: %w", err)
			}
			for i := range list.Items {
				in.Copies = append(in.Copies, &list.Items[i])
			}
			if opts.Continue = list.Continue; opts.Continue == "" {
				break
			}
		}
		acts, err := c.plan(ctx, in)
		errs := append([]error{err}, c.apply(ctx, acts)...)
		if err := errors.Join(errs...); err != nil {
			return res, err
		}
		res = CleanupResult{}
		marked := false
		for _, a := range acts {
			switch a.Kind {
			case distribute.Delete:
				res.Deleted++
			case distribute.KeepMounted:
				res.Mounted++
			case distribute.MarkOrphaned:
				marked = true
				res.Kept++
			default:
				res.Kept++
			}
		}
		if !marked {
			break
		}
	}
	return res, nil
}
