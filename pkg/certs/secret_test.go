package certs

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// rotating returns a machine in the adding phase, published, so every key and annotation is set.
func rotating(t *testing.T) *machine {
	m := newMachine(t)
	m.step()
	m.publish()
	m.now = RenewAt(m.s.CA.Cert)
	m.step()
	m.publish()
	m.step()
	return m
}

func TestSecretRoundTrip(t *testing.T) {
	m := rotating(t)
	data, ann := Encode(m.s)
	for _, k := range []string{KeyCACert, KeyCAKey, KeyCert, KeyKey, KeyBundle, KeyNextCACert, KeyNextCAKey} {
		if len(data[k]) == 0 {
			t.Errorf("key %s missing", k)
		}
	}
	got, problems := Decode(data, ann, m.now, m.names)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if !sameEncoding(got, m.s) || got.Phase != PhaseAdding || !got.PublishedAt.Equal(m.s.PublishedAt) {
		t.Fatalf("round trip changed the state: phase %s published %s", got.Phase, got.PublishedAt)
	}
	// A decoded state needs no write.
	if _, ev, _ := Step(got, m.input()); len(ev) != 0 {
		t.Fatalf("decoded state not at rest: %v", ev)
	}
	if s, problems := Decode(nil, nil, m.now, m.names); len(problems) != 0 || s.CA != nil {
		t.Fatalf("absent Secret: %v", problems)
	}
}

// A corrupt or half-written Secret is repaired by the next Step, keeping whatever is still usable;
// Decode reports each unusable part (the caller logs it) instead of failing.
func TestCorruptSecretIsRepaired(t *testing.T) {
	base := newMachine(t)
	base.step()
	base.publish()
	good, goodAnn := Encode(base.s)
	other := newMachine(t)
	other.step()
	expired := newMachine(t)
	expired.now = t0.Add(-time.Hour)
	expired.step()
	expData, _ := Encode(expired.s)

	cases := []struct {
		name    string
		edit    func(map[string][]byte, map[string]string)
		newCA   bool // the CA itself had to be replaced
		newLeaf bool
	}{
		{"CA bad PEM", func(d map[string][]byte, _ map[string]string) { d[KeyCACert] = []byte("not pem") }, true, true},
		{"CA half written", func(d map[string][]byte, _ map[string]string) { d[KeyCACert] = d[KeyCACert][:len(d[KeyCACert])/2] }, true, true},
		{"CA key of another CA", func(d map[string][]byte, _ map[string]string) { d[KeyCAKey] = other.s.CA.KeyPEM }, true, true},
		{"CA expired", func(d map[string][]byte, _ map[string]string) {
			d[KeyCACert], d[KeyCAKey], d[KeyCert], d[KeyKey] = expData[KeyCACert], expData[KeyCAKey], expData[KeyCert], expData[KeyKey]
		}, true, true},
		{"CA is a leaf", func(d map[string][]byte, _ map[string]string) { d[KeyCACert], d[KeyCAKey] = d[KeyCert], d[KeyKey] }, true, true},
		{"leaf key mismatch", func(d map[string][]byte, _ map[string]string) { d[KeyKey] = other.s.Leaf.KeyPEM }, false, true},
		{"leaf signed by another CA", func(d map[string][]byte, _ map[string]string) {
			d[KeyCert], d[KeyKey] = other.s.Leaf.CertPEM, other.s.Leaf.KeyPEM
		}, false, true},
		{"leaf missing", func(d map[string][]byte, _ map[string]string) { delete(d, KeyCert) }, false, true},
		{"leaf key garbage after PEM", func(d map[string][]byte, _ map[string]string) { d[KeyKey] = append(slices.Clone(d[KeyKey]), 'x') }, false, true},
		{"bundle garbage", func(d map[string][]byte, _ map[string]string) { d[KeyBundle] = []byte("{}") }, false, false},
		{"unknown phase", func(_ map[string][]byte, a map[string]string) { a[AnnotationPhase] = "sideways" }, false, false},
		{"bad retire-at", func(_ map[string][]byte, a map[string]string) { a[AnnotationRetireAt] = "soon" }, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, ann := maps.Clone(good), maps.Clone(goodAnn)
			c.edit(data, ann)
			s, problems := Decode(data, ann, base.now, base.names)
			if len(problems) == 0 {
				t.Fatal("no problem reported")
			}
			for _, p := range problems {
				if !errors.Is(p, ErrCorrupt) {
					t.Errorf("problem does not wrap ErrCorrupt: %v", p)
				}
			}
			fixed, _, err := Step(s, base.input())
			if err != nil {
				t.Fatal(err)
			}
			d2, a2 := Encode(fixed)
			if maps.EqualFunc(d2, data, slices.Equal) && maps.Equal(a2, ann) {
				t.Fatal("repaired state encodes like the corrupt Secret: nothing would be written")
			}
			if (fixed.CA.Cert.Equal(base.s.CA.Cert)) == c.newCA {
				t.Errorf("CA replaced = %v, want %v", !c.newCA, c.newCA)
			}
			if (fixed.Leaf.Cert.Equal(base.s.Leaf.Cert)) == c.newLeaf {
				t.Errorf("leaf replaced = %v, want %v", !c.newLeaf, c.newLeaf)
			}
			// The repaired Secret decodes cleanly and serves a valid chain.
			again, problems := Decode(d2, a2, base.now, base.names)
			if len(problems) != 0 {
				t.Fatalf("repaired Secret still corrupt: %v", problems)
			}
			if err := Verify(again.Leaf.Cert, again.Bundle, base.names[3], base.now); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLeafWithoutACurrentSANIsReissued(t *testing.T) {
	m := newMachine(t)
	m.step()
	data, ann := Encode(m.s)
	// --service-name changed: the stored leaf lacks the new names.
	s, problems := Decode(data, ann, m.now, DNSNames("renamed", "tools"))
	if len(problems) != 1 || s.Leaf != nil || s.CA == nil {
		t.Fatalf("problems %v leaf %v", problems, s.Leaf != nil)
	}
}
