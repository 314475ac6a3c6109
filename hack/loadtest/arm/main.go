// Command arm is one comparison webhook of `make loadtest`, run as its own process like the real
// `webhook serve`: controller-runtime's webhook.Server (same TLS certificate, HTTP/1.1 keep-alive)
// serving /mutate-v1-pod with admission.Webhook over one of three handlers:
//
//	empty     admission.Allowed(""): what controller-runtime costs with no work at all
//	naive     the kubebuilder-style webhook doing our mutation (reviewtest.Naive: typed decode,
//	          mutate, marshal and diff), deciding for namespace team-a pinned to tilt-lib-v2
//	constant  our patch, read once from -patch, returned for every review: the API server's cost
//	          of applying our patch, with none of ours
//
// and, without admission.Webhook:
//
//	floor     the same patch from a bare http.Handler that reads the body, takes the request's
//	          UID and writes a prebuilt answer: the least any webhook returning that patch can
//	          cost, so ours minus floor is all of our share
//
// A plain-HTTP side server on -probe-addr (loopback) answers /readyz once the TLS server
// listens, and /count with the number of admission requests served, so the driver can tell
// which registration the API server is using. SIGTERM or SIGINT stops it (exit 0).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// The namespace the naive arm decides for: what the driver creates in the cluster.
var (
	namespaces = staticNamespaces{"team-a": {"tilt-lib.platform/version": "v2"}}
	configMaps = mutate.MapLookup{"team-a/tilt-lib-v2": "2.0.1", "team-a/tilt-templates": "1.1.0"}
)

// maxPatch bounds the -patch file: our patch for the 89 KB Pod is a few KB.
const maxPatch = 1 << 20

type staticNamespaces map[string]map[string]string

func (s staticNamespaces) NamespaceAnnotations(_ context.Context, name string) (map[string]string, bool, error) {
	a, ok := s[name]
	return a, ok, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "arm:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "", "empty, naive or constant")
	bind := flag.String("bind-address", "127.0.0.1", "address of the TLS server")
	port := flag.Int("port", 9443, "port of the TLS server")
	certDir := flag.String("cert-dir", "", "folder with tls.crt and tls.key")
	patchFile := flag.String("patch", "", "constant mode: file holding the JSON patch to return")
	probeAddr := flag.String("probe-addr", "127.0.0.1:0", "loopback host:port of /readyz and /count")
	flag.Parse()
	logf.SetLogger(logr.Discard())

	h, err := handlerFor(*mode, *patchFile)
	if err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*probeAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-probe-addr %q is not a loopback host:port", *probeAddr)
	}
	var served atomic.Int64
	srv := webhook.NewServer(webhook.Options{Host: *bind, Port: *port, CertDir: *certDir})
	srv.Register("/mutate-v1-pod", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		h.ServeHTTP(w, r)
	}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	probe := &http.Server{Addr: *probeAddr, ReadHeaderTimeout: 5 * time.Second, Handler: probes(srv, &served)}
	probeErr := make(chan error, 1)
	go func() { probeErr <- probe.ListenAndServe() }()
	defer func() { _ = probe.Close() }()
	select {
	case err := <-probeErr:
		return fmt.Errorf("probe server: %w", err)
	default:
	}
	if err := srv.Start(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("webhook server: %w", err)
	}
	return nil
}

// probes serves /readyz (200 once the TLS server accepts connections) and /count.
func probes(srv webhook.Server, served *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := srv.StartedChecker()(r); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strconv.FormatInt(served.Load(), 10)))
	})
	return mux
}

func handlerFor(mode, patchFile string) (http.Handler, error) {
	switch mode {
	case "empty":
		return &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
			return admission.Allowed("")
		})}, nil
	case "naive":
		return &admission.Webhook{Handler: reviewtest.NewNaive(mutate.DefaultOptions(), namespaces, configMaps)}, nil
	case "constant", "floor":
		patch, err := readPatch(patchFile)
		if err != nil {
			return nil, err
		}
		if mode == "floor" {
			return floor{patch: patch}, nil
		}
		pt := admissionv1.PatchTypeJSONPatch
		return &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
			return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true, PatchType: &pt, Patch: patch}}
		})}, nil
	}
	return nil, fmt.Errorf("-mode %q: want empty, naive, constant or floor", mode)
}

func readPatch(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("-mode constant needs -patch")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the patch: %w", err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, maxPatch+1))
	if err != nil {
		return nil, fmt.Errorf("reading the patch: %w", err)
	}
	if len(buf) > maxPatch {
		return nil, fmt.Errorf("patch %s is over %d bytes", path, maxPatch)
	}
	if len(buf) == 0 || buf[0] != '[' {
		return nil, fmt.Errorf("patch %s is not a JSON patch (an array)", path)
	}
	return buf, nil
}
