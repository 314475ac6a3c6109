package harness

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Warnings collects the admission warnings the API server relays to a client (the
// "Warning:" lines kubectl prints), so tests can assert what a developer would read.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (w *Warnings) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, message string) {
	if code != 299 { // only RFC 7234 "miscellaneous persistent warning" carries admission warnings
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, message)
}

// Take returns the warnings received since the last Take and forgets them.
func (w *Warnings) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// WarningClient is a clientset on cfg whose warnings land in the returned collector instead of
// the log.
func WarningClient(cfg *rest.Config) (kubernetes.Interface, *Warnings, error) {
	w := &Warnings{}
	c := rest.CopyConfig(cfg)
	c.WarningHandler = nil
	c.WarningHandlerWithContext = w
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, nil, fmt.Errorf("clientset with a warning collector: %w", err)
	}
	return cs, w, nil
}
