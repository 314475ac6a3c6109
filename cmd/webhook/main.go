// Command webhook is tilt-lib-injector: `webhook serve` runs the admission server, `webhook inject`
// applies the same mutation offline, `webhook distribute` copies the library ConfigMaps into the
// workspace namespaces. Flags, TILTLIB_* variables and --config keys are described in
// pkg/config and the README; `webhook <command> --help` lists each command's own.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code. Help and version go to
// stdout with exit 0; errors go to stderr, one "webhook <command>: " line each, with exit 1.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve" // the chart and older manifests run `webhook --port …`
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "--help":
			cmd, args = "help", args[1:]
		case a == "--version":
			cmd, args = "version", args[1:]
		case a != "" && a[0] != '-':
			cmd, args = a, args[1:]
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "inject":
		err = inject(args, stdin, stdout, stderr)
	case "explain":
		err = explainCmd(args, stdin, stdout, stderr)
	case "distribute":
		err = distributeCmd(args, stdout, stderr)
	case "version":
		err = noArguments(args)
		if err == nil {
			fmt.Fprintln(stdout, version)
		}
	case "help":
		err = help(args, stdin, stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q (commands: serve, inject, explain, distribute, version, help; see webhook --help)", cmd)
		cmd = ""
	}
	var h *helpRequest
	var code exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &h):
		commandHelp(stdout, h.fs.Name(), h.fs)
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	prefix := "webhook: "
	if cmd != "" {
		prefix = "webhook " + cmd + ": "
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, prefix+line)
	}
	return 1
}

// flagSet is a FlagSet that does not exit and does not print its usage: run prints help (to
// stdout) and errors (to stderr) and decides the exit code. w (stderr) gets pflag's own notices,
// such as a deprecated flag.
func flagSet(name string, w io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {}
	fs.SortFlags = false
	return fs
}

// helpRequest is returned by a subcommand asked for --help: run prints the help of its flags.
type helpRequest struct{ fs *pflag.FlagSet }

func (h *helpRequest) Error() string { return "help requested" }

// load runs a config loader (tlconfig.LoadServe, tlconfig.LoadInject) with an environment
// (os.LookupEnv, or a deployed container's for explain), and turns --help into a helpRequest.
func load(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool),
	loader func(*pflag.FlagSet, []string, func(string) (string, bool)) (tlconfig.Config, error)) (tlconfig.Config, error) {
	cfg, err := loader(fs, args, lookupEnv)
	if errors.Is(err, pflag.ErrHelp) {
		return cfg, &helpRequest{fs: fs}
	}
	return cfg, err
}

func noArguments(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	return nil
}
