package distributor

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
)

func testController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset, *record.FakeRecorder) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(objs...)
	rec := record.NewFakeRecorder(10)
	s := distribute.Settings{Prefix: "tilt-lib.platform/", Bases: []string{"tilt-lib"}, VersionLabel: "version",
		SourceNamespace: "platform", Selector: labels.SelectorFromSet(labels.Set{"ws": "true"}), Grace: time.Hour,
		MaxSources: 4, MaxSourceBytes: 1 << 20}
	return New(client, Options{Settings: s, Resync: time.Minute, Log: logr.Discard(), Metrics: m, Recorder: rec}), client, rec
}

func writes(c *fake.Clientset) []string {
	var out []string
	for _, a := range c.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			out = append(out, a.GetVerb()+" "+a.GetNamespace())
		}
	}
	return out
}

// TestApplyNeverWritesTheSourceNamespace: even a plan that names the source namespace (Plan never
// does) is refused before any call.
func TestApplyNeverWritesTheSourceNamespace(t *testing.T) {
	c, client, _ := testController(t)
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "platform", Name: "tilt-lib"}}
	errs := c.apply(context.Background(), []distribute.Action{
		{Kind: distribute.Create, Namespace: "platform", Name: "tilt-lib", Object: obj},
		{Kind: distribute.Delete, Namespace: "platform", Name: "tilt-lib", UID: "u", ResourceVersion: "1"},
	})
	if len(errs) != 2 || len(writes(client)) != 0 {
		t.Errorf("errors %v, writes %v; want two refusals and no write", errs, writes(client))
	}
}

// TestDeleteCarriesPreconditions: an orphan is deleted only if it is still the copy the plan saw.
func TestDeleteCarriesPreconditions(t *testing.T) {
	c, client, _ := testController(t)
	var got *metav1.Preconditions
	client.PrependReactor("delete", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		got = a.(k8stesting.DeleteActionImpl).DeleteOptions.Preconditions
		return true, nil, nil
	})
	if errs := c.apply(context.Background(), []distribute.Action{{Kind: distribute.Delete, Namespace: "team-a", Name: "tilt-lib", UID: "uid-1", ResourceVersion: "42"}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	if got == nil || got.UID == nil || *got.UID != "uid-1" || got.ResourceVersion == nil || *got.ResourceVersion != "42" {
		t.Errorf("preconditions %+v, want uid-1 and 42", got)
	}
}

// TestCreateIntoAClashRemembersIt: a create that meets an unmanaged ConfigMap records it as a
// clash (the copy informer never sees it), and writes nothing else.
func TestCreateIntoAClashRemembersIt(t *testing.T) {
	mine := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "tilt-lib", UID: "theirs"}}
	c, client, _ := testController(t, mine)
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "tilt-lib",
		Labels: map[string]string{distribute.ManagedByLabel: distribute.ManagedBy}}}
	if errs := c.apply(context.Background(), []distribute.Action{{Kind: distribute.Create, Namespace: "team-a", Name: "tilt-lib", Object: obj}}); len(errs) > 0 {
		t.Fatal(errs)
	}
	if cm := c.clashes[[2]string{"team-a", "tilt-lib"}]; cm == nil || cm.UID != "theirs" {
		t.Errorf("clash not remembered: %+v", c.clashes)
	}
	if w := writes(client); len(w) != 1 || w[0] != "create team-a" {
		t.Errorf("writes %v, want the one failed create", w)
	}
}

// TestNoteOncePerMessage: a clash reported at every pass is one Event until its message changes.
func TestNoteOncePerMessage(t *testing.T) {
	c, _, rec := testController(t)
	a := distribute.Action{Kind: distribute.KeepMounted, Namespace: "team-a", Name: "tilt-lib", Mounts: 2}
	for range 3 {
		c.apply(context.Background(), []distribute.Action{a})
	}
	a.Mounts = 1
	c.apply(context.Background(), []distribute.Action{a})
	if n := len(rec.Events); n != 2 {
		t.Errorf("%d Events, want 2 (one per distinct message)", n)
	}
}
