package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// command is one subcommand as `webhook --help` lists it.
type command struct {
	name, synopsis, summary string
}

var commands = []command{
	{"serve", "webhook serve [flags]",
		"Run the TLS admission server. The default command: `webhook --port 9443` is `webhook serve --port 9443`."},
	{"inject", "webhook inject -f FILE|DIR|- [-f ...] [-R] [flags]",
		"Apply serve's mutation offline: Pods and workloads in (YAML/JSON), mutated YAML or JSON patches out."},
	{"explain", "webhook explain pod/NAME|deploy/NAME|namespace/NS [-n NS] | --new -n NS [-l k=v]... | -f FILE [flags]",
		"Why a workspace got (or would get) its library version, or none: the webhook's own decision, one row per layer (√ ‼ ×) with hints. Exit 0 no ×, 3 some ×, 4 only ‼ with --strict, 1 usage or access error."},
	{"distribute", "webhook distribute --source-namespace NS --namespace-selector SELECTOR [flags]",
		"Copy the library ConfigMaps of one namespace into every selected namespace and keep them (its own Deployment)."},
	{"version", "webhook version", "Print the version (also `webhook --version`)."},
	{"help", "webhook help [command]", "Show this help, or a command's flags (also `webhook <command> --help`)."},
}

const configNote = "Each also as TILTLIB_<FLAG> (dashes as underscores) or as a key of the --config YAML file;\n" +
	"precedence: flag > environment > file > default. One file may hold serve's and inject's keys.\n"

// help prints the overview, or with a command name that command's help.
func help(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stdout, "tilt-lib-injector %s: mounts the shared Tilt library into Coder workspace Pods.\n\n", version)
		fmt.Fprintln(stdout, "Usage:\n  webhook <command> [flags]\n\nCommands:")
		for _, c := range commands {
			fmt.Fprintf(stdout, "  %-8s %s\n", c.name, c.summary)
		}
		fmt.Fprintln(stdout, "\nRun `webhook <command> --help` for its flags.")
		return nil
	}
	switch args[0] {
	case "serve", "inject", "explain", "distribute":
		if err := noArguments(args[1:]); err != nil {
			return err
		}
		return helpOf(args[0], stdin, stdout, stderr)
	case "version", "help":
		return noArguments(args[1:])
	}
	return fmt.Errorf("unknown command %q (commands: serve, inject, explain, distribute, version, help)", args[0])
}

// helpOf runs a subcommand with --help and returns its helpRequest.
func helpOf(name string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch name {
	case "serve":
		return serve([]string{"--help"}, stderr)
	case "explain":
		return explainCmd([]string{"--help"}, stdin, stdout, stderr)
	case "distribute":
		return distributeCmd([]string{"--help"}, stdout, stderr)
	}
	return inject([]string{"--help"}, stdin, stdout, stderr)
}

// commandHelp prints a subcommand's help: its own flags, then the configuration flags it reads.
func commandHelp(w io.Writer, name string, fs *pflag.FlagSet) {
	keys := tlconfig.Keys()
	own := pflag.NewFlagSet(name, pflag.ContinueOnError)
	cfg := pflag.NewFlagSet(name, pflag.ContinueOnError)
	own.SortFlags, cfg.SortFlags = false, false
	fs.VisitAll(func(f *pflag.Flag) {
		if keys[f.Name] {
			cfg.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	for _, c := range commands {
		if c.name == name {
			fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis, c.summary)
		}
	}
	if own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsages())
	}
	fmt.Fprintf(w, "\nConfiguration flags:\n%s\n%s", cfg.FlagUsages(), configNote)
}
