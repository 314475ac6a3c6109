// Command image builds OCI images without Docker, each as an OCI image layout in a tar file that
// `ctr images import`, `docker load`, `kind load image-archive` and `crane push` accept. Every
// image takes the same path (image.go): one layer of files on an empty base, one image per
// platform under one index named REPO:TAG, the same digest for the same inputs.
//
//	image webhook -out dist/tilt-lib-injector.oci.tar -ref REPO:TAG -version V -source URL \
//	    -binary linux/amd64=bin/linux-amd64/webhook -binary linux/arm64=bin/linux-arm64/webhook
//
// is `make image`: the webhook's static binary at /webhook, run as a non-root numeric user,
// entrypoint /webhook and command `serve` (the chart's args, which start with `serve`, replace the
// command; an entrypoint holding `serve` too made the Pods run `webhook serve serve ...`). The e2e node builds the same image for its own platform, and
//
//	image node -pause bin/pause -busybox $(hack/tools.sh)/busybox -out DIR
//
// writes the node's sandbox and workspace images, DIR/pause.oci.tar and DIR/workspace.oci.tar.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

type binaryFlags map[string]string

func (b binaryFlags) String() string { return fmt.Sprint(map[string]string(b)) }
func (b binaryFlags) Set(s string) error {
	platform, path, ok := strings.Cut(s, "=")
	if !ok || strings.Count(platform, "/") != 1 {
		return fmt.Errorf("%q: want os/arch=path", s)
	}
	b[platform] = path
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: image webhook|node [flags] (see -h of each)")
	}
	fs := flag.NewFlagSet("image "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "webhook":
		o := Options{Binaries: binaryFlags{}}
		out := fs.String("out", "dist/tilt-lib-injector.oci.tar", "OCI layout tarball to write")
		fs.StringVar(&o.Ref, "ref", "", "image name REPO:TAG")
		fs.StringVar(&o.Version, "version", "", "version label")
		fs.StringVar(&o.Source, "source", "", "source label (repository URL)")
		fs.Var(binaryFlags(o.Binaries), "binary", "os/arch=path of a static binary, repeatable")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return Build(*out, o)
	case "node":
		pause := fs.String("pause", "", "static pause binary (go build ./pause)")
		busybox := fs.String("busybox", "", "static busybox binary (Debian's busybox-static)")
		out := fs.String("out", "", "directory for pause.oci.tar and workspace.oci.tar")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return buildNode(*pause, *busybox, *out)
	}
	return fmt.Errorf("unknown image %q: want webhook or node", args[0])
}
