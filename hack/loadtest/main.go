package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// Sections of a run.
const (
	sectionClosed = "closed"
	sectionOpen   = "open"
	sectionCreate = "create"
)

// Config is what the flags set.
type Config struct {
	Rounds     int
	Sections   []string
	Sizes      []string
	Conns      []int
	ClosedTime time.Duration
	ClosedMax  int
	OpenSize   string
	Rates      []int
	OpenTime   time.Duration
	OpenConns  int
	CreateSize string
	Pods       int
	Markdown   string
	Assets     string
	WorkDir    string
	Timeout    time.Duration
}

// Bounds of the flags: a run stays minutes, not hours, and a typo does not start a million
// goroutines.
const (
	maxRounds      = 20
	maxConns       = 256
	maxOpenConns   = 1024
	maxRate        = 20000
	maxPhase       = time.Minute
	maxPods        = 5000
	maxClosedCount = 10_000_000
)

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	var sections, sizes, conns, rates string
	fs.IntVar(&c.Rounds, "rounds", 3, "interleaved rounds (every section runs every arm once per round)")
	fs.StringVar(&sections, "sections", "closed,open,create", "sections to run: closed, open, create")
	fs.StringVar(&sizes, "sizes", "6KB,89KB", "closed loop: review bodies, by name on pkg/review/reviewtest's ladder (2KB, 6KB, 18KB, 30KB-managedFields, 89KB)")
	fs.StringVar(&conns, "conns", "1,8,32", "closed loop: connections")
	fs.DurationVar(&c.ClosedTime, "closed-time", 2*time.Second, "closed loop: time per arm and round")
	fs.IntVar(&c.ClosedMax, "closed-max", 1_000_000, "closed loop: at most this many reviews per arm and round")
	fs.StringVar(&c.OpenSize, "open-size", "6KB", "open loop: review body (ladder name)")
	fs.StringVar(&rates, "rates", "250,500,1000,2000", "open loop: request rates per second")
	fs.DurationVar(&c.OpenTime, "open-time", 2*time.Second, "open loop: time per arm, rate and round")
	fs.IntVar(&c.OpenConns, "open-conns", 64, "open loop: at most this many connections (a review waits for a free one, and the wait counts in its latency)")
	fs.StringVar(&c.CreateSize, "create-size", "6KB", "Pod create: the workspace Pod's shape (ladder name)")
	fs.IntVar(&c.Pods, "pods", 200, "Pod create: sequential creations per arm and round")
	fs.StringVar(&c.Markdown, "markdown", "", "also write the report as Markdown to this file")
	fs.StringVar(&c.Assets, "assets", "", "folder of etcd and kube-apiserver (default $KUBEBUILDER_ASSETS)")
	fs.StringVar(&c.WorkDir, "work-dir", "", "keep binaries, certificates and logs here (default: a temporary folder, removed at the end)")
	fs.DurationVar(&c.Timeout, "timeout", 20*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	c.Sections = splitList(sections)
	c.Sizes = splitList(sizes)
	if c.Conns, err = intList("-conns", conns, 1, maxConns); err != nil {
		return Config{}, err
	}
	if c.Rates, err = intList("-rates", rates, 1, maxRate); err != nil {
		return Config{}, err
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	for _, s := range c.Sections {
		if !slices.Contains([]string{sectionClosed, sectionOpen, sectionCreate}, s) {
			errs = append(errs, fmt.Errorf("-sections: unknown section %q (closed, open, create)", s))
		}
	}
	if len(c.Sections) == 0 {
		errs = append(errs, errors.New("-sections: none given"))
	}
	for _, s := range append(slices.Clone(c.Sizes), c.OpenSize, c.CreateSize) {
		if _, ok := reviewtest.RungNamed(s); !ok {
			errs = append(errs, fmt.Errorf("body %q is not on the ladder (2KB, 6KB, 18KB, 30KB-managedFields, 89KB)", s))
		}
	}
	if c.Rounds < 1 || c.Rounds > maxRounds {
		errs = append(errs, fmt.Errorf("-rounds %d: want 1..%d", c.Rounds, maxRounds))
	}
	for name, d := range map[string]time.Duration{"-closed-time": c.ClosedTime, "-open-time": c.OpenTime} {
		if d <= 0 || d > maxPhase {
			errs = append(errs, fmt.Errorf("%s %s: want more than 0 and at most %s", name, d, maxPhase))
		}
	}
	if c.OpenConns < 1 || c.OpenConns > maxOpenConns {
		errs = append(errs, fmt.Errorf("-open-conns %d: want 1..%d", c.OpenConns, maxOpenConns))
	}
	if c.ClosedMax < 1 || c.ClosedMax > maxClosedCount {
		errs = append(errs, fmt.Errorf("-closed-max %d: want 1..%d", c.ClosedMax, maxClosedCount))
	}
	if c.Pods < 1 || c.Pods > maxPods {
		errs = append(errs, fmt.Errorf("-pods %d: want 1..%d", c.Pods, maxPods))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout %s: want more than 0", c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) runs(section string) bool { return slices.Contains(c.Sections, section) }

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(flagName, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%s: %q is not a number in %d..%d", flagName, f, lo, hi)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: none given", flagName)
	}
	return out, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rep, err := run(ctx, cfg, "go run ./hack/loadtest "+strings.Join(os.Args[1:], " "), os.Stderr)
	if rep != nil {
		fmt.Print(rep.Text())
		if cfg.Markdown != "" {
			if werr := os.WriteFile(cfg.Markdown, []byte(rep.Markdown()), 0o644); werr != nil {
				err = errors.Join(err, fmt.Errorf("writing %s: %w", cfg.Markdown, werr))
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}
