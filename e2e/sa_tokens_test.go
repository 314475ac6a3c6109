//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceAccount tokens the TokenRequest API gives (saToken) and ones it does not: for another
// audience, and expired (re-signed with the API server's own key).

// audienceToken is a token of ServiceAccount ns/name for audience only (not the API server's).
func audienceToken(t *testing.T, ctx context.Context, ns, name, audience string) string {
	t.Helper()
	tr, err := inj.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: []string{audience}, ExpirationSeconds: ptrTo(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// reSigned is token with its times moved by shift (iat, nbf, exp; 0 keeps them), signed with the
// API server's own ServiceAccount key: the TokenRequest API never issues an expired token.
func reSigned(t *testing.T, token string, shift time.Duration) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("a ServiceAccount token with %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iat", "nbf", "exp"} {
		if v, ok := claims[k].(float64); ok {
			claims[k] = int64(v) + int64(shift/time.Second)
		}
	}
	if payload, err = json.Marshal(claims); err != nil {
		t.Fatal(err)
	}
	signed := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload)
	pemKey, err := inj.ServiceAccountSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signJWS(pemKey, signed)
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signJWS signs a JWS signing input with a PKCS#8 PEM key the way the API server does with
// envtest's P-256 key: ES256 (the token's header already names it).
func signJWS(pemKey []byte, input string) ([]byte, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("the ServiceAccount signing key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the ServiceAccount signing key: %w", err)
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("a %T signing key, want ECDSA P-256 (envtest's)", key)
	}
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	sig := make([]byte, 64) // JWS: r and s, 32 bytes each, big-endian (not ASN.1)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}
