package metricsauth

import (
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// FilterProvider plugs a Filter backed by the API server into controller-runtime's metrics server
// (metricsserver.Options.FilterProvider). Every path of that server shares one Filter: one cache,
// one bound on reviews in flight.
func FilterProvider(log logr.Logger) func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
	return func(c *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
		cs, err := kubernetes.NewForConfigAndClient(c, hc)
		if err != nil {
			return nil, fmt.Errorf("the TokenReview and SubjectAccessReview client: %w", err)
		}
		f := New(APIReviewer{Client: cs}, Options{Log: log})
		return func(_ logr.Logger, h http.Handler) (http.Handler, error) { return f.Wrap(h), nil }, nil
	}
}
