//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// scaleNamespaces is how many Namespaces TestManyNamespaces adds to the cluster: enough that the
// stores hold thousands of entries, few enough to create in seconds.
const scaleNamespaces = 2000

// TestManyNamespaces: among two thousand Namespaces, each with an unrelated ConfigMap and most
// pinned, the webhook still answers per namespace from the right pin and the right ConfigMaps.
// It exercises pkg/lookup's stores through the real API server's watch: pins shared by many
// Namespaces, unpinned Namespaces, unrelated ConfigMaps never kept, ours kept.
func TestManyNamespaces(t *testing.T) {
	ctx := context.Background()
	prefix := fmt.Sprintf("e2e-scale-%d-", inj.Webhook.PID())
	pinOf := func(i int) map[string]string {
		switch i % 3 {
		case 0:
			return map[string]string{harness.KeyVersion: "v2"}
		case 1:
			return map[string]string{harness.KeyVersion: "v3"}
		}
		return nil
	}
	jobs := make(chan int)
	errs := make(chan error, scaleNamespaces)
	var wg sync.WaitGroup
	for range 8 { // bounded: the API server shares two cores with the suite
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				name := fmt.Sprintf("%s%04d", prefix, i)
				_, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
					Name: name, Annotations: pinOf(i), Labels: map[string]string{"team": name}}}, metav1.CreateOptions{})
				if err == nil {
					_, err = inj.Client.CoreV1().ConfigMaps(name).Create(ctx, &corev1.ConfigMap{
						ObjectMeta: metav1.ObjectMeta{Name: "app-config", Labels: map[string]string{"version": "9.9.9"}}}, metav1.CreateOptions{})
				}
				if err != nil {
					errs <- fmt.Errorf("namespace %d: %w", i, err)
				}
			}
		}()
	}
	for i := range scaleNamespaces {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// A sample across the range, each with our ConfigMaps; the answer depends on the pin.
	libFallback := want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "fallback"}
	for i := 0; i < scaleNamespaces; i += 97 {
		ns := fmt.Sprintf("%s%04d", prefix, i)
		for _, cm := range []string{"tilt-lib", "tilt-lib-v2", "tilt-templates"} {
			createConfigMap(t, ns, cm)
		}
		lib := map[int]want{0: libV2Namespace, 1: libFallback, 2: libDefault}[i%3] // v3 is not published here
		settle(t, ns, lib, templatesDefault)
	}
	// A Namespace with only unrelated ConfigMaps: ours are absent, whatever else is there.
	ns := fmt.Sprintf("%s%04d", prefix, 2)
	p, err := inj.DryRunCreate(ctx, ns, harness.WorkspacePod("scale", nil))
	if err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := harness.InjectedRecord(p); err != nil || !ok || rec.Lib == nil || rec.Lib.Version != "" || rec.Lib.ConfigMap != "tilt-lib" {
		t.Errorf("namespace without our ConfigMaps: record %+v %v %v, want tilt-lib without a version", rec, ok, err)
	}
}
