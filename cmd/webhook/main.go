// Command webhook is tilt-lib-injector: `webhook serve` runs the admission server, `webhook inject`
// applies the same mutation offline. Flags, TILTLIB_* variables and --config keys are described in
// pkg/config and the README.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

const usage = `tilt-lib-injector %s — mounts the shared Tilt library into Coder workspace Pods.

Usage:
  webhook [serve] [flags]     run the TLS admission server (default)
  webhook inject -f FILE|- [--namespace-file ns.yaml] [--configmaps-file cms.yaml] [-o yaml|patch] [flags]
  webhook version
  webhook <command> --help    list the flags of a command

Every flag can also be set as TILTLIB_<FLAG> (dashes as underscores) or as a key of --config FILE.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "inject":
		err = inject(args, stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version)
	case "help":
		fmt.Fprintf(stdout, usage, version)
	default:
		fmt.Fprintf(stderr, usage, version)
		err = fmt.Errorf("unknown command %q", cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "webhook %s: %v\n", cmd, err)
	return 1
}

// flagSet is a FlagSet that reports errors instead of exiting, so run decides the exit code.
func flagSet(name string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	return fs
}
