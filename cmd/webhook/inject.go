package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	tlinject "github.com/platform-tools/tilt-lib-injector/pkg/inject"
)

// inject runs the server's mutation offline: the same flags, env and --config file as serve, plus
// the input files. Warnings go to stderr so stdout stays pipeable into kubectl apply -f -.
func inject(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flagSet("inject", stderr)
	var file, nsFile, cmFile, output string
	fs.StringVarP(&file, "filename", "f", "", "Pod or workload YAML/JSON, single or multi-document; - for stdin (required)")
	fs.StringVar(&nsFile, "namespace-file", "", "the Namespace (its annotations apply)")
	fs.StringVar(&cmFile, "configmaps-file", "", "the ConfigMaps that exist (list or stream); default: every ConfigMap exists")
	fs.StringVarP(&output, "output", "o", tlinject.OutputYAML, "yaml (the mutated objects) or patch (one JSON patch per object)")
	cfg, err := load(fs, args, tlconfig.LoadInject)
	if err != nil {
		return err
	}
	if file == "" {
		return errors.New("-f FILE (or -f - for stdin) is required")
	}
	in, name := stdin, "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("reading -f: %w", err)
		}
		defer f.Close()
		in, name = f, file
	}
	return tlinject.Run(tlinject.Options{
		Mutate:         cfg.MutateOptions(),
		VersionLabel:   cfg.VersionLabel,
		NamespaceFile:  nsFile,
		ConfigMapsFile: cmFile,
		Output:         output,
		InputName:      name,
	}, in, stdout, stderr)
}
