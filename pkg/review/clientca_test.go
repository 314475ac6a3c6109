package review

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue makes a certificate for cn signed by parent (self-signed when parent is nil).
func issue(t *testing.T, cn string, parent *keyPair, isCA bool, usage x509.ExtKeyUsage) keyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return keyPair{cert, key}
}

func (k keyPair) tls() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{k.cert.Raw}, PrivateKey: k.key, Leaf: k.cert}
}

func writePEM(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	p := filepath.Join(t.TempDir(), "client-ca.crt")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientCARequiresAVerifiedClientCertificate(t *testing.T) {
	apiServerCA := issue(t, "apiserver-client-ca", nil, true, x509.ExtKeyUsageClientAuth)
	apiServer := issue(t, "kube-apiserver", &apiServerCA, false, x509.ExtKeyUsageClientAuth)
	otherCA := issue(t, "someone-else", nil, true, x509.ExtKeyUsageClientAuth)
	intruder := issue(t, "workspace-pod", &otherCA, false, x509.ExtKeyUsageClientAuth)
	serving := issue(t, "webhook", nil, true, x509.ExtKeyUsageServerAuth)

	opt, err := ClientCA(writePEM(t, apiServerCA.cert))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving.tls()}}
	opt(srv.TLS)                                     // as controller-runtime applies webhook.Options.TLSOpts
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(serving.cert)

	get := func(client *tls.Certificate, maxVersion uint16) error {
		c := &tls.Config{RootCAs: roots, MaxVersion: maxVersion}
		if client != nil {
			c.Certificates = []tls.Certificate{*client}
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: 5 * time.Second}
		resp, err := hc.Get(srv.URL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	good, bad := apiServer.tls(), intruder.tls()
	for _, v := range []struct {
		name string
		max  uint16
	}{{"TLS 1.2", tls.VersionTLS12}, {"TLS 1.3", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			if err := get(nil, v.max); err == nil {
				t.Error("a client without a certificate was served")
			}
			if err := get(&bad, v.max); err == nil {
				t.Error("a client certificate from another CA was served")
			}
			if err := get(&good, v.max); err != nil {
				t.Errorf("the API server's client certificate was refused: %v", err)
			}
		})
	}

	// controller-runtime's readiness check dials without a certificate and closes: with TLS 1.3
	// it completes, so /readyz keeps working when --client-ca is set.
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("readiness-style dial: %v", err)
	}
	conn.Close()
}

func TestClientCAFileErrors(t *testing.T) {
	if _, err := ClientCA(filepath.Join(t.TempDir(), "missing.crt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.crt")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ClientCA(empty); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("no certificate: %v", err)
	}
}
