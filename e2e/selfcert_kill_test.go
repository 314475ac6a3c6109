//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestSelfCertSIGKILLMidRotation: a replica killed (SIGKILL: no cleanup at all) while the CA
// rotation is in its first phase leaves nothing half done that matters: the state is the
// Secret, so the survivor completes the rotation alone, and the restarted replica adopts the
// result and serves the same chain, trusted by the caBundle.
func TestSelfCertSIGKILLMidRotation(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "selfcert-kill", 2, admissionv1.Ignore,
		"--ca-lifetime="+rotCALifetime, "--cert-lifetime="+rotCertLifetime)
	s.launchAll(t)
	phase := func(ctx context.Context) (string, error) {
		sec, err := inj.Client.CoreV1().Secrets(s.ns).Get(ctx, selfCertSecret, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return sec.Annotations["certs.tilt-lib.platform/phase"], nil
	}
	waitPhase := func(want string) {
		t.Helper()
		err := harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			p, err := phase(ctx)
			return p == want, err
		})
		if err != nil {
			t.Fatalf("phase %s never reached: %v", want, err)
		}
	}
	firstCA := caSerial(t, ctx, s.ns)
	waitPhase("adding")
	victim, survivor := s.replicas[0], s.replicas[1]
	if err := victim.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := victim.Wait(10 * time.Second); err == nil {
		t.Fatal("SIGKILLed replica exited 0")
	}
	killedAt := time.Now()
	waitPhase("retiring")
	waitPhase("stable")
	if caSerial(t, ctx, s.ns) == firstCA {
		t.Fatal("rotation ended with the first CA")
	}
	t.Logf("survivor completed the CA rotation %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	if _, err := s.trustedLeaf(ctx, survivor.Addr); err != nil {
		t.Fatalf("survivor: %v", err)
	}

	if err := victim.Start(ctx, time.Minute); err != nil {
		t.Fatalf("restarting the killed replica: %v", err)
	}
	var last string
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		a, errA := s.trustedLeaf(ctx, victim.Addr)
		b, errB := s.trustedLeaf(ctx, survivor.Addr)
		if errA != nil || errB != nil {
			last = fmt.Sprint(errA, errB)
			return false, nil
		}
		last = "different leaves (a renewal between the two handshakes?)"
		return bytes.Equal(a.Raw, b.Raw), nil
	})
	if err != nil {
		t.Fatalf("restarted replica and survivor do not serve the same trusted chain: %v (last: %s)", err, last)
	}
}

func caSerial(t *testing.T, ctx context.Context, ns string) string {
	t.Helper()
	sec, err := inj.Client.CoreV1().Secrets(ns).Get(ctx, selfCertSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(sec.Data["ca.crt"])
}
