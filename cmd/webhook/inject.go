package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	tlinject "github.com/platform-tools/tilt-lib-injector/pkg/inject"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// inject runs the server's mutation offline: the same flags, env and --config file as serve, plus
// the input files. Warnings and the per-object summary go to stderr so stdout stays pipeable into
// kubectl apply -f -.
func inject(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flagSet("inject", stderr)
	var files []string
	var recursive bool
	var nsFile, cmFile, versionsFile, output string
	fs.StringArrayVarP(&files, "filename", "f", nil, "Pod or workload YAML/JSON file, directory (its .yaml, .yml, .json files) or - for stdin; repeatable, read in order (required)")
	fs.BoolVarP(&recursive, "recursive", "R", false, "read the subdirectories of -f directories too")
	fs.StringVar(&nsFile, "namespace-file", "", "file of Namespaces whose annotations pin versions: each object is resolved with the annotations of the Namespace it is in (an object naming none is in the file's Namespace if it holds exactly one, else in default); wins over Namespaces in -f")
	fs.StringVar(&cmFile, "configmaps-file", "", "the ConfigMaps that exist (list or stream); default: those in -f, else every ConfigMap exists")
	fs.StringVar(&versionsFile, "versions-file", "", "the versions document (what serve watches in --versions-configmap, key versions.yaml): its aliases win over --alias for a name they define")
	fs.StringVarP(&output, "output", "o", tlinject.OutputYAML, `yaml (the objects) or patch (one {"kind","namespace","name","patch"} JSON line per Pod or workload)`)
	cfg, err := load(fs, args, os.LookupEnv, tlconfig.LoadInject)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument(s) %s: give each input with its own -f (e.g. -f a.yaml -f b.yaml)", strings.Join(fs.Args(), " "))
	}
	if len(files) == 0 {
		return fmt.Errorf("-f FILE (or -f - for stdin) is required")
	}
	opts := cfg.MutateOptions()
	if versionsFile != "" {
		snap, err := readVersionsFile(versionsFile, opts)
		if err != nil {
			return err
		}
		snap.Apply(&opts)
	}
	return tlinject.Run(tlinject.Options{
		Mutate:            opts,
		VersionLabel:      cfg.VersionLabel,
		WorkspaceSelector: cfg.WorkspaceSelector,
		ConfigMapSelector: cfg.ConfigMapSelector,
		Filenames:         files,
		Recursive:         recursive,
		NamespaceFile:     nsFile,
		ConfigMapsFile:    cmFile,
		Output:            output,
		InputName:         "stdin",
	}, stdin, stdout, stderr)
}

// readVersionsFile reads and validates a versions document, at most versions.MaxDocumentBytes.
func readVersionsFile(path string, o mutate.Options) (*versions.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--versions-file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, versions.MaxDocumentBytes+1)) // one byte over: Build names the bound
	if err != nil {
		return nil, fmt.Errorf("--versions-file %s: %w", path, err)
	}
	snap, err := versions.Build(data, o)
	if err != nil {
		return nil, fmt.Errorf("--versions-file %s: %w", path, err)
	}
	return snap, nil
}
