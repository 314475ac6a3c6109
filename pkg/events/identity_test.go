package events

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clientevents "k8s.io/client-go/tools/events"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// TestEachComponentIsItsOwnEvent runs the Emitter through client-go's events broadcaster, the one
// serve uses: two components missing their ConfigMaps in one review are two Events, each with its
// own note. Before the component was part of the Event's identity, the broadcaster folded the
// second into the first's series and tilt-templates' note was never written.
func TestEachComponentIsItsOwnEvent(t *testing.T) {
	client := fake.NewSimpleClientset()
	b := clientevents.NewBroadcaster(&clientevents.EventSinkImpl{Interface: client.EventsV1()})
	stop := make(chan struct{})
	defer close(stop)
	b.StartRecordingToSink(stop)
	defer b.Shutdown()
	e := New(b.NewRecorder(runtime.NewScheme(), "tilt-lib-injector"), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Start(ctx) }()

	e.Emit("team-a", []mutate.Finding{
		{Reason: mutate.ReasonConfigMapMissing, Component: mutate.LibVolume, Message: `ConfigMap "tilt-lib-v9" not found`},
		{Reason: mutate.ReasonConfigMapMissing, Component: mutate.TemplatesVolume, Message: `ConfigMap "tilt-templates-v9" not found`},
	})

	want := []string{`"tilt-lib-v9"`, `"tilt-templates-v9"`}
	var notes []string
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := client.EventsV1().Events("team-a").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		notes = notes[:0]
		for _, ev := range list.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "ConfigMapMissing" {
				notes = append(notes, ev.Action+": "+ev.Note)
			}
		}
		return all(notes, want), nil
	})
	if err != nil || len(notes) != 2 {
		t.Fatalf("Events %q, want one per component mentioning %q (%v)", notes, want, err)
	}
}

// all reports whether every fragment is in some note.
func all(notes, fragments []string) bool {
	for _, f := range fragments {
		found := false
		for _, n := range notes {
			found = found || strings.Contains(n, f)
		}
		if !found {
			return false
		}
	}
	return true
}

func TestActionNamesTheComponent(t *testing.T) {
	for component, want := range map[string]string{"": "Inject", "tilt-lib": "Inject/tilt-lib", "tilt-templates": "Inject/tilt-templates"} {
		if got := action(component); got != want {
			t.Errorf("action(%q) = %q, want %q", component, got, want)
		}
	}
}
