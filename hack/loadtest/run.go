package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// run starts the cluster, runs the configured sections and returns the report. Every failed
// review or Pod creation is an error of the run (the numbers of a run with failures are not a
// benchmark), but the report is still returned to show where. progress gets a line per step.
func run(ctx context.Context, cfg Config, command string, progress io.Writer) (rep *Report, err error) {
	started := time.Now()
	workDir := cfg.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "tilt-lib-loadtest-"); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
		defer func() {
			if err == nil {
				err = os.RemoveAll(workDir)
			} else {
				fmt.Fprintf(progress, "loadtest: kept %s (webhook.log, arm-*.log, kube-apiserver.log)\n", workDir)
			}
		}()
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	createRung, _ := reviewtest.RungNamed(cfg.CreateSize)
	fmt.Fprintf(progress, "loadtest: building, starting etcd + kube-apiserver and the webhooks in %s\n", workDir)
	c, err := startCluster(ctx, cfg.Assets, workDir, createRung.Shape)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, c.Stop()) }()
	fmt.Fprintf(progress, "loadtest: up in %s\n", time.Since(started).Round(time.Millisecond))

	rep = &Report{Machine: thisMachine(), Command: command, Started: started}
	res := newResults()
	rep.Results = res
	var failed int
	note := func(what string, n int, first error) {
		if n > 0 || first != nil {
			failed += n
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %d failed, first: %v", what, n, first))
		}
	}
	if cfg.runs(sectionClosed) {
		if err := closedSection(ctx, cfg, c, res, progress, note); err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, closedTable(cfg, res))
	}
	if cfg.runs(sectionOpen) {
		if err := openSection(ctx, cfg, c, rep, res, progress, note); err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, openTable(cfg, res))
	}
	if cfg.runs(sectionCreate) {
		if err := createSection(ctx, cfg, c, res, progress, note); err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, createTables(cfg, res)...)
	}
	rep.Elapsed = time.Since(started)
	if failed > 0 {
		return rep, fmt.Errorf("%d reviews or Pod creations failed (see the errors under the tables)", failed)
	}
	return rep, ctx.Err()
}

// bodies are the review bodies by ladder name, each checked against every direct arm once.
func bodies(ctx context.Context, c *Cluster, names ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range names {
		if out[name] != nil {
			continue
		}
		rung, _ := reviewtest.RungNamed(name)
		b, err := reviewtest.Review("admission.k8s.io/v1", workNamespace, reviewtest.WorkspacePod(rung.Shape), false)
		if err != nil {
			return nil, err
		}
		if err := c.checkArms(ctx, closedArms, b); err != nil {
			return nil, fmt.Errorf("%s review: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

type noteFunc func(what string, failed int, first error)

func closedSection(ctx context.Context, cfg Config, c *Cluster, res *Results, progress io.Writer, note noteFunc) error {
	body, err := bodies(ctx, c, cfg.Sizes...)
	if err != nil {
		return err
	}
	var cases []string
	sizeOf, connsOf := map[string]string{}, map[string]int{}
	for _, size := range cfg.Sizes {
		for _, n := range cfg.Conns {
			k := closedCase(size, n)
			cases = append(cases, k)
			sizeOf[k], connsOf[k] = size, n
		}
	}
	for _, s := range Schedule(cfg.Rounds, cases, closedArms) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		client, err := newClient(c.CA, connsOf[s.Case])
		if err != nil {
			return err
		}
		r := closedLoop(ctx, client, c.Arms[s.Arm].URL(), body[sizeOf[s.Case]], connsOf[s.Case], cfg.ClosedTime, cfg.ClosedMax)
		client.CloseIdleConnections()
		if res.Closed[s.Case] == nil {
			res.Closed[s.Case] = map[string][]ClosedResult{}
		}
		res.Closed[s.Case][s.Arm] = append(res.Closed[s.Case][s.Arm], r)
		note(fmt.Sprintf("closed %s %s round %d", s.Case, s.Arm, s.Round+1), r.Failed, r.FirstErr)
		fmt.Fprintf(progress, "closed round %d %-10s %-5s %8.0f rps\n", s.Round+1, s.Case, s.Arm, r.RPS())
	}
	return nil
}

func openSection(ctx context.Context, cfg Config, c *Cluster, rep *Report, res *Results, progress io.Writer, note noteFunc) error {
	body, err := bodies(ctx, c, cfg.OpenSize)
	if err != nil {
		return err
	}
	var cases []string
	rateOf := map[string]int{}
	for _, r := range cfg.Rates {
		cases = append(cases, openCase(r))
		rateOf[openCase(r)] = r
	}
	for _, s := range Schedule(cfg.Rounds, cases, closedArms) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		client, err := newClient(c.CA, cfg.OpenConns)
		if err != nil {
			return err
		}
		r := openLoop(ctx, client, c.Arms[s.Arm].URL(), body[cfg.OpenSize], rateOf[s.Case], cfg.OpenTime)
		client.CloseIdleConnections()
		if res.Open[s.Case] == nil {
			res.Open[s.Case] = map[string][]OpenResult{}
		}
		res.Open[s.Case][s.Arm] = append(res.Open[s.Case][s.Arm], r)
		what := fmt.Sprintf("open %s %s round %d", s.Case, s.Arm, s.Round+1)
		if failed, shed := openVerdict(r); failed > 0 {
			note(what, failed, r.FirstErr)
		} else if shed != "" {
			rep.Notes = append(rep.Notes, what+": "+shed)
		}
		fmt.Fprintf(progress, "open   round %d %-9s %-5s p50 %s p99 %s max %s\n", s.Round+1, s.Case, s.Arm, r.P50, r.P99, r.Max)
	}
	return nil
}

func createSection(ctx context.Context, cfg Config, c *Cluster, res *Results, progress io.Writer, note noteFunc) error {
	for _, s := range Schedule(cfg.Rounds, []string{"create"}, createArms) {
		if err := c.register(ctx, s.Arm); err != nil {
			return err
		}
		r := c.createPods(ctx, s.Arm, cfg.Pods)
		res.Create[s.Arm] = append(res.Create[s.Arm], r)
		note(fmt.Sprintf("create %s round %d", s.Arm, s.Round+1), r.Failed, r.FirstErr)
		fmt.Fprintf(progress, "create round %d %-8s p50 %s p99 %s\n", s.Round+1, s.Arm, r.P50, r.P99)
		if err := c.deletePods(ctx); err != nil {
			return err
		}
	}
	return c.register(ctx, armNone)
}

// openVerdict tells a broken arm from a busy one. Past its capacity an arm may shed load (ours
// answers 429 beyond --max-concurrent-reviews): when some reviews were admitted, the rest are
// the result the admitted column shows, said in a note, not a failure of the run. An arm that
// admitted nothing, or a run that sent nothing, failed.
func openVerdict(r OpenResult) (failed int, shed string) {
	switch {
	case r.Sent == 0 || r.OK == 0:
		return max(r.Sent, 1), ""
	case r.OK < r.Sent:
		return 0, fmt.Sprintf("%d of %d not admitted, first: %v", r.Sent-r.OK, r.Sent, r.FirstErr)
	}
	return 0, ""
}
