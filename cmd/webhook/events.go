package main

import (
	"context"
	"fmt"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/rest"
	clientevents "k8s.io/client-go/tools/events"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// eventSource is the reporting controller of the Events we emit.
const eventSource = "tilt-lib-injector"

// eventRecorder is the recorder of pkg/events: its own client (eventsClient), recording from now
// until ctx is done.
func eventRecorder(ctx context.Context, rc *rest.Config, cfg tlconfig.Config) (clientevents.EventRecorder, error) {
	ec, err := eventsClient(rc, cfg.EventsQPS, cfg.EventsBurst)
	if err != nil {
		return nil, err
	}
	return startEventRecorder(ctx, ec)
}

// eventsClient is the client of the Events only: a copy of rc with a client-side rate limit of
// its own. The other clients of serve have none (withClientDefaults: they list and watch once),
// and the manager's recorder would share their unlimited config; Events are the one write a
// review can trigger, so anything that can send reviews could otherwise drive it.
func eventsClient(rc *rest.Config, qps float32, burst int) (*eventsv1client.EventsV1Client, error) {
	c := rest.CopyConfig(rc)
	c.QPS, c.Burst, c.RateLimiter = qps, burst, nil
	ec, err := eventsv1client.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("creating the Events client: %w", err)
	}
	return ec, nil
}

// startEventRecorder records Events through ec from now until ctx is done. It starts at once,
// not as a manager Runnable: the broadcaster drops what it is given before it records, and the
// emitter may start first.
func startEventRecorder(ctx context.Context, ec eventsv1client.EventsV1Interface) (clientevents.EventRecorder, error) {
	b := clientevents.NewBroadcaster(&clientevents.EventSinkImpl{Interface: ec})
	if err := b.StartRecordingToSinkWithContext(ctx); err != nil {
		return nil, fmt.Errorf("starting the Event recorder: %w", err)
	}
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	return b.NewRecorder(clientgoscheme.Scheme, eventSource), nil
}
