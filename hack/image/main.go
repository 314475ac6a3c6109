// Command image builds the OCI image of the webhook without Docker (`make image`): for each platform
// an empty base plus one layer holding the static binary at /webhook, run as a non-root numeric user
// with entrypoint `webhook serve`, under one multi-arch index, written as an OCI image layout in a tar
// file that `docker load`, `kind load image-archive` and `crane push` accept.
//
// Usage: image -out dist/tilt-lib-injector.oci.tar -ref REPO:TAG -version V -source URL \
//
//	-binary linux/amd64=bin/linux-amd64/webhook -binary linux/arm64=bin/linux-arm64/webhook
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/platform-tools/tilt-lib-injector/hack/image/ocitar"
)

// User is the numeric user and group the image runs as: non-root, and numeric so the kubelet can check
// runAsNonRoot without an /etc/passwd (the chart runs as the same id).
const User = "65532:65532"

// BinaryPath is where the layer puts the webhook binary.
const BinaryPath = "webhook"

// epoch is every timestamp in the image: the same inputs give the same digest.
var epoch = ocitar.Epoch

// Options describe one image build.
type Options struct {
	Ref      string            // REPO:TAG, recorded as the image name in index.json
	Version  string            // org.opencontainers.image.version
	Source   string            // org.opencontainers.image.source
	Binaries map[string]string // "os/arch" → static binary
}

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
	o := Options{Binaries: binaryFlags{}}
	out := flag.String("out", "dist/tilt-lib-injector.oci.tar", "OCI layout tarball to write")
	flag.StringVar(&o.Ref, "ref", "", "image name REPO:TAG")
	flag.StringVar(&o.Version, "version", "", "version label")
	flag.StringVar(&o.Source, "source", "", "source label (repository URL)")
	flag.Var(binaryFlags(o.Binaries), "binary", "os/arch=path of a static binary, repeatable")
	flag.Parse()
	if err := Build(*out, o); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

// Build writes the multi-arch image of o as an OCI layout tarball at out.
func Build(out string, o Options) error {
	if o.Ref == "" || o.Version == "" || len(o.Binaries) == 0 {
		return errors.New("need -ref, -version and at least one -binary")
	}
	_, tag, ok := strings.Cut(o.Ref[strings.LastIndex(o.Ref, "/")+1:], ":")
	if !ok || tag == "" {
		return fmt.Errorf("-ref %q: want REPO:TAG", o.Ref)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	platforms := make([]string, 0, len(o.Binaries))
	for p := range o.Binaries {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms) // index order, hence its digest, independent of flag order
	for _, p := range platforms {
		img, err := platformImage(p, o.Binaries[p], o)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}},
		})
	}
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	// ref.name is the OCI tag; containerd (kind) and docker name the loaded image from these.
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          o.Ref,
	})); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return ocitar.Write(dir, out)
}

func platformImage(platform, binary string, o Options) (v1.Image, error) {
	osName, arch, _ := strings.Cut(platform, "/")
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := binaryLayer(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = osName, arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = User
	cf.Config.Entrypoint = []string{"/" + BinaryPath, "serve"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   "tilt-lib-injector",
		"org.opencontainers.image.version": o.Version,
		"org.opencontainers.image.source":  o.Source,
	}
	return mutate.ConfigFile(img, cf)
}

// binaryLayer is a tar holding only the binary, root-owned and read-only executable.
func binaryLayer(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Name: BinaryPath, Mode: 0o555, Size: int64(len(bin)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
