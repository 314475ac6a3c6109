package certs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"slices"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admissionregistration/v1"
)

func bundleOf(kps ...*KeyPair) []*x509.Certificate {
	var out []*x509.Certificate
	for _, k := range kps {
		out = append(out, k.Cert)
	}
	return out
}

func TestTrustedIsWhatEveryEntryOfOursHolds(t *testing.T) {
	a, b := mustCA(t, t0, time.Hour), mustCA(t, t0, time.Hour)
	cfg := webhookConfig(EncodeCerts(bundleOf(a, b)), EncodeCerts(bundleOf(a)))
	if got := Trusted(cfg, svcRef); !SameSet(got, bundleOf(a)) {
		t.Fatalf("trusted %d certs, want only the CA both entries hold", len(got))
	}
	if Trusted(nil, svcRef) != nil || Trusted(cfg, ServiceRef{Name: "nobody", Namespace: "tools"}) != nil {
		t.Fatal("no entry of ours must trust nothing")
	}
	cfg.Webhooks[1].ClientConfig.CABundle = []byte("garbage")
	if len(Trusted(cfg, svcRef)) != 0 {
		t.Fatal("an unparsable caBundle trusts nothing")
	}
}

func applyPatch(t *testing.T, cfg *admissionv1.MutatingWebhookConfiguration, patch []byte) (*admissionv1.MutatingWebhookConfiguration, error) {
	t.Helper()
	doc, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(doc)
	if err != nil {
		return nil, err
	}
	var got admissionv1.MutatingWebhookConfiguration
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	return &got, nil
}

func TestBundlePatchTouchesOnlyOurStaleEntries(t *testing.T) {
	a, b := mustCA(t, t0, time.Hour), mustCA(t, t0, time.Hour)
	want := bundleOf(a, b)
	// Entry 0 blank (helm upgrade), entry 1 already right in another order, entry 2 someone else's.
	cfg := webhookConfig(nil, EncodeCerts(bundleOf(b, a)))
	patch, removes, err := BundlePatch(cfg, svcRef, want)
	if err != nil || removes {
		t.Fatalf("removes=%v err=%v", removes, err)
	}
	var ops []jsonPatchOp
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, op := range ops {
		paths = append(paths, op.Op+" "+op.Path)
	}
	if !slices.Equal(paths, []string{"test /webhooks/0/name", "add /webhooks/0/clientConfig/caBundle"}) {
		t.Fatalf("patch ops %v", paths)
	}
	got, err := applyPatch(t, cfg, patch)
	if err != nil {
		t.Fatal(err)
	}
	if !SameSet(Trusted(got, svcRef), want) || string(got.Webhooks[2].ClientConfig.CABundle) != "theirs" {
		t.Fatal("patched object wrong")
	}
	if p, _, _ := BundlePatch(got, svcRef, want); p != nil {
		t.Fatalf("second patch on a healed object: %s", p)
	}
	// The same patch on a copy whose entries were reordered fails instead of hitting another entry.
	slices.Reverse(cfg.Webhooks)
	if _, err := applyPatch(t, cfg, patch); err == nil {
		t.Fatal("patch applied to reordered webhooks")
	}
	// Dropping a CA is flagged so the caller can confirm it against the live Secret.
	if _, removes, _ := BundlePatch(got, svcRef, bundleOf(b)); !removes {
		t.Fatal("removal not reported")
	}
}

func TestIssuerInChain(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	leaf, err := NewLeaf(rand.Reader, ca, t0, time.Minute, DNSNames("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if IssuerInChain([]*x509.Certificate{leaf.Cert}) != nil {
		t.Error("issuer found in a chain of one")
	}
	if got := IssuerInChain([]*x509.Certificate{leaf.Cert, mustCA(t, t0, time.Hour).Cert, ca.Cert}); got == nil || !got.Equal(ca.Cert) {
		t.Error("issuer not found")
	}
}
