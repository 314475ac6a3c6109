package certs

import (
	"crypto/x509"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"
)

// ServiceRef is the Service in front of the webhook: only webhook entries whose
// clientConfig.service names it are ours to touch.
type ServiceRef struct{ Name, Namespace string }

func (r ServiceRef) owns(w admissionv1.MutatingWebhook) bool {
	s := w.ClientConfig.Service
	return s != nil && s.Name == r.Name && s.Namespace == r.Namespace
}

// Trusted is what the API server trusts for our Service according to cfg: the CAs that every
// entry of ours holds in its caBundle (a CA only one entry trusts does not make a leaf safe).
// Nil when cfg is nil or has no entry of ours; an unparsable caBundle trusts nothing.
func Trusted(cfg *admissionv1.MutatingWebhookConfiguration, svc ServiceRef) []*x509.Certificate {
	if cfg == nil {
		return nil
	}
	var out []*x509.Certificate
	first := true
	for _, w := range cfg.Webhooks {
		if !svc.owns(w) {
			continue
		}
		certs, _ := ParseCerts(w.ClientConfig.CABundle)
		if first {
			out, first = certs, false
			continue
		}
		var both []*x509.Certificate
		for _, c := range out {
			if Contains(certs, c) {
				both = append(both, c)
			}
		}
		out = both
	}
	return out
}

type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// BundlePatch is the JSON patch (RFC 6902) that sets the caBundle of every entry of ours that
// does not hold exactly bundle (order and duplicates aside), and nothing else; nil when none
// needs it. Each entry's name is tested first, so a patch computed on a stale copy whose
// webhooks were reordered fails instead of touching another entry. removes reports whether a
// certificate present now would leave some caBundle: the caller then confirms bundle against
// the live Secret first.
func BundlePatch(cfg *admissionv1.MutatingWebhookConfiguration, svc ServiceRef, bundle []*x509.Certificate) (patch []byte, removes bool, err error) {
	if cfg == nil || len(bundle) == 0 {
		return nil, false, nil
	}
	pemBundle := EncodeCerts(bundle)
	var ops []jsonPatchOp
	for i, w := range cfg.Webhooks {
		if !svc.owns(w) {
			continue
		}
		have, _ := ParseCerts(w.ClientConfig.CABundle)
		if SameSet(have, bundle) {
			continue
		}
		for _, c := range have {
			if !Contains(bundle, c) {
				removes = true
			}
		}
		base := fmt.Sprintf("/webhooks/%d", i)
		ops = append(ops,
			jsonPatchOp{Op: "test", Path: base + "/name", Value: w.Name},
			// "add" replaces an existing member and creates a missing one (a blanked caBundle is
			// omitted from the object), where "replace" would fail on the latter.
			jsonPatchOp{Op: "add", Path: base + "/clientConfig/caBundle", Value: pemBundle})
	}
	if len(ops) == 0 {
		return nil, false, nil
	}
	patch, err = json.Marshal(ops)
	if err != nil {
		return nil, false, fmt.Errorf("encoding the caBundle patch: %w", err)
	}
	return patch, removes, nil
}
