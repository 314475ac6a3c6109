package main

import (
	"errors"
	"fmt"
	"os"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// User is the numeric user and group the webhook image runs as: non-root, and numeric so the kubelet
// can check runAsNonRoot without an /etc/passwd (the chart runs as the same id).
const User = "65532:65532"

// BinaryPath is where the layer puts the webhook binary.
const BinaryPath = "webhook"

// Options describe one webhook image build.
type Options struct {
	Ref      string            // REPO:TAG, recorded as the image name in index.json
	Version  string            // org.opencontainers.image.version
	Source   string            // org.opencontainers.image.source
	Binaries map[string]string // "os/arch" → static binary
}

// Build writes the multi-arch webhook image of o as an OCI layout tarball at out: per platform an
// empty base plus one layer holding that platform's static binary at /webhook, entrypoint
// /webhook with command `serve`, user User.
func Build(out string, o Options) error {
	if o.Ref == "" || o.Version == "" || len(o.Binaries) == 0 {
		return errors.New("need -ref, -version and at least one -binary")
	}
	platforms := make([]string, 0, len(o.Binaries))
	for p := range o.Binaries {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms) // the first error named does not depend on map order
	images := map[string]v1.Image{}
	for _, p := range platforms {
		bin, err := os.ReadFile(o.Binaries[p])
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		// `serve` is the command, not part of the entrypoint: the chart's args (which replace the
		// command) start with it, and `docker run IMAGE --help` still serves by default.
		cfg := v1.Config{
			User:       User,
			Entrypoint: []string{"/" + BinaryPath},
			Cmd:        []string{"serve"},
			Labels: map[string]string{
				"org.opencontainers.image.title":   "tilt-lib-injector",
				"org.opencontainers.image.version": o.Version,
				"org.opencontainers.image.source":  o.Source,
			},
		}
		if images[p], err = platformImage(p, cfg, []entry{{Path: BinaryPath, Mode: 0o555, Data: bin}}); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return writeIndex(out, o.Ref, images)
}
