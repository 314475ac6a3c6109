package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// errNoCredentials: nothing says which API server to use.
var errNoCredentials = errors.New("no API server credentials: set --kubeconfig or KUBECONFIG, or run in a Pod with a service account")

// apiServerTimeout bounds the startup check of the API server.
const apiServerTimeout = 10 * time.Second

// restConfig finds the API server and credentials: --kubeconfig, else $KUBECONFIG, else the Pod's
// service account, else ~/.kube/config. controller-runtime's config.GetConfig searches the same
// places, but logs a stack-traced error on the way and ends in client-go's advice to set
// KUBERNETES_MASTER, which nothing reads any more: here each failure is one error saying what to set.
func restConfig(kubeconfig string) (*rest.Config, error) {
	var rules *clientcmd.ClientConfigLoadingRules
	var source string
	switch env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); {
	case kubeconfig != "":
		rules, source = &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, "--kubeconfig "+kubeconfig
	case env != "":
		rules, source = clientcmd.NewDefaultClientConfigLoadingRules(), "KUBECONFIG="+env
	default:
		c, err := rest.InClusterConfig()
		if err == nil {
			return withClientDefaults(c), nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("in-cluster credentials: %w (is the service account token mounted?)", err)
		}
		home, err := os.UserHomeDir() // $HOME, read now (client-go's default reads it at init)
		if err != nil {
			// A container may run without $HOME.
			if u, uerr := user.Current(); uerr == nil {
				home = u.HomeDir
			}
		}
		rules = &clientcmd.ClientConfigLoadingRules{Precedence: []string{
			filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}}
		source = "~/.kube/config"
	}
	c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err) && source == "~/.kube/config":
		return nil, errNoCredentials
	case clientcmd.IsEmptyConfig(err):
		return nil, fmt.Errorf("%s: no kubeconfig found there; %w", source, errNoCredentials)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return withClientDefaults(c), nil
}

// withClientDefaults turns client-side rate limiting off, as controller-runtime's GetConfig did:
// the informers list and watch once, and the API server's priority and fairness protects it.
func withClientDefaults(c *rest.Config) *rest.Config {
	if c.QPS == 0 {
		c.QPS = -1
	}
	return c
}

// checkAPIServer asks the API server for its version within timeout and returns it. Without this,
// an unreachable server surfaces only as "failed to determine if *v1.PartialObjectMetadata is
// namespaced" from the informers, or as a Pod that never gets ready.
func checkAPIServer(ctx context.Context, rc *rest.Config, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return "", fmt.Errorf("API server client for %s: %w; check --kubeconfig", rc.Host, err)
	}
	body, err := d.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if apierrors.IsUnauthorized(err) {
		return "", fmt.Errorf("the API server at %s rejected the credentials: %w; check --kubeconfig or the service account token", rc.Host, err)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", timeout, err)
		}
		return "", fmt.Errorf("cannot reach the API server at %s: %w; check --kubeconfig and the network", rc.Host, err)
	}
	var info k8sversion.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("the API server at %s answered /version with something else: %w; check --kubeconfig", rc.Host, err)
	}
	return info.GitVersion, nil
}
