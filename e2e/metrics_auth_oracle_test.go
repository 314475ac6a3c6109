//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	// The oracle. Imported here only: it links k8s.io/apiserver, which cmd/webhook must not
	// (pkg/metricsauth's TestWebhookLinksNoAPIServer).
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/metricsauth"
)

// authPair is one handler served twice over TLS on loopback, both filters asking the real API
// server as the same identity: behind pkg/metricsauth (ours, on a clock the test moves) and behind
// controller-runtime's filters.WithAuthenticationAndAuthorization (the oracle, on the real clock).
type authPair struct {
	ours, oracle *httptest.Server
	clock        *stepClock
}

// stepClock stands still until advanced: our cache expires exactly when the test says so.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// behindFilter is what both filters guard. Its body tells what reached it: the method, the path,
// and whether the caller's Authorization header did (the token is for the filter, not the handler).
var behindFilter = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "# %s %s, Authorization header passed on: %t\ntiltlib_build_info 1\n",
		r.Method, r.URL.Path, r.Header.Get("Authorization") != "")
})

func newAuthPair(t *testing.T, cfg *rest.Config) authPair {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	clock := &stepClock{now: time.Now()}
	ours := metricsauth.New(metricsauth.APIReviewer{Client: cs}, metricsauth.Options{Now: clock.Now}).Wrap(behindFilter)
	filter, err := filters.WithAuthenticationAndAuthorization(cfg, hc)
	if err != nil {
		t.Fatalf("the oracle filter: %v", err)
	}
	oracle, err := filter(logr.Discard(), behindFilter)
	if err != nil {
		t.Fatalf("the oracle filter: %v", err)
	}
	p := authPair{ours: httptest.NewTLSServer(ours), oracle: httptest.NewTLSServer(oracle), clock: clock}
	t.Cleanup(p.ours.Close)
	t.Cleanup(p.oracle.Close)
	return p
}

// call is one request: method, path and headers.
type call struct {
	method, path string
	header       map[string]string
}

func bearerCall(token string) call {
	return call{http.MethodGet, "/metrics", map[string]string{"Authorization": "Bearer " + token}}
}

// answer is what a server said: status and body.
type answer struct {
	code int
	body string
}

func ask(t *testing.T, srv *httptest.Server, s call) answer {
	t.Helper()
	req, err := http.NewRequest(s.method, srv.URL+s.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	c := srv.Client()
	c.Timeout = 30 * time.Second
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(body)}
}

// decision folds the oracle's one quirk into the status: the API server's bearer-token
// authenticator reports a token it could not authenticate as an error ("invalid bearer token"),
// and controller-runtime's filter answers every authenticator error with 500 "Authentication
// failed". The API server itself answers such a caller 401, and so does ours.
func (a answer) decision() int {
	if a.code == http.StatusInternalServerError && strings.TrimSpace(a.body) == "Authentication failed" {
		return http.StatusUnauthorized
	}
	return a.code
}

// both asks ours and the oracle and requires want from each; when allowed, the same body.
func (p authPair) both(t *testing.T, who string, s call, want int) {
	t.Helper()
	ours, oracle := ask(t, p.ours, s), ask(t, p.oracle, s)
	if ours.code != want || oracle.decision() != want {
		t.Errorf("%s: ours HTTP %d, the oracle HTTP %d (%q), want %d from both\nours: %.200s",
			who, ours.code, oracle.code, strings.TrimSpace(oracle.body), want, ours.body)
		return
	}
	if want == http.StatusOK && ours.body != oracle.body {
		t.Errorf("%s: served different bodies\nours:   %q\noracle: %q", who, ours.body, oracle.body)
	}
}

// TestMetricsAuthAgainstControllerRuntime: pkg/metricsauth gives every caller the decision
// controller-runtime's filters.WithAuthenticationAndAuthorization gives it (200, 401 or 403, and
// the same body when allowed), on the real API server with the chart's RBAC; where the two
// legitimately differ, the row says why (pkg/metricsauth/doc.go says the same).
func TestMetricsAuthAgainstControllerRuntime(t *testing.T) {
	const (
		ns      = "metrics-oracle"
		release = "metrics-oracle"
		name    = release + "-tilt-lib-injector" // the chart's ServiceAccount: the filters' identity
		reader  = name + "-metrics-reader"       // the chart's ClusterRole: get on /metrics
	)
	ctx := context.Background()
	sas := []string{"scraper", "stranger", "debugger", "revoked", "late"}
	grantRBAC(t, ctx, ns, release, sas, reader)
	filterCfg := rest.AnonymousClientConfig(inj.Config)
	filterCfg.BearerToken = saToken(t, ctx, ns, name)
	p := newAuthPair(t, filterCfg)

	scraper := saToken(t, ctx, ns, "scraper")
	expired, resigned := reSigned(t, scraper, -2*time.Hour), reSigned(t, scraper, 0)
	otherAudience := audienceToken(t, ctx, ns, "scraper", "https://not-this-cluster.example")
	header := func(v string) map[string]string { return map[string]string{"Authorization": v} }
	for _, c := range []struct {
		who  string
		s    call
		want int
	}{
		{"no Authorization header", call{http.MethodGet, "/metrics", nil}, 401},
		{"`Bearer` alone", call{http.MethodGet, "/metrics", header("Bearer")}, 401},
		{"`Bearer ` and nothing", call{http.MethodGet, "/metrics", header("Bearer ")}, 401},
		{"Basic credentials", call{http.MethodGet, "/metrics", header("Basic x")}, 401},
		{"the reader's token as Basic", call{http.MethodGet, "/metrics", header("Basic " + scraper)}, 401},
		{"the reader's token after lowercase bearer", call{http.MethodGet, "/metrics", header("bearer " + scraper)}, 200},
		{"the reader's token after two spaces", call{http.MethodGet, "/metrics", header("Bearer  " + scraper)}, 401},
		{"the reader's token and more text", call{http.MethodGet, "/metrics", header("Bearer " + scraper + " more")}, 200},
		{"a made-up token", bearerCall("not-a-token"), 401},
		{"the reader's token for another audience", bearerCall(otherAudience), 401},
		{"the reader's token, expired (re-signed with the API server's key)", bearerCall(expired), 401},
		{"the reader's token, re-signed as it was (control of the row above)", bearerCall(resigned), 200},
		{"a ServiceAccount without the grant", bearerCall(saToken(t, ctx, ns, "stranger")), 403},
		{"the injector's own ServiceAccount", bearerCall(filterCfg.BearerToken), 403},
		{"a reader of /debug, on /metrics", bearerCall(saToken(t, ctx, ns, "debugger")), 403},
		{"a reader of /debug, on /debug", call{http.MethodGet, "/debug", header("Bearer " + saToken(t, ctx, ns, "debugger"))}, 200},
		{"the metrics reader, on /debug", call{http.MethodGet, "/debug", header("Bearer " + scraper)}, 403},
		{"the metrics reader", bearerCall(scraper), 200},
		{"the metrics reader again (cached)", bearerCall(scraper), 200},
		{"the metrics reader, HEAD (verb head)", call{http.MethodHead, "/metrics", header("Bearer " + scraper)}, 403},
		{"the metrics reader, POST (verb post)", call{http.MethodPost, "/metrics", header("Bearer " + scraper)}, 403},
		{"POST without a token", call{http.MethodPost, "/metrics", nil}, 401},
	} {
		p.both(t, c.who, c.s, c.want)
	}

	// Deliberate differences, each in pkg/metricsauth/doc.go.
	t.Run("a token the API server refuses", func(t *testing.T) {
		// What decision() folds: ours 401, as the API server itself; the oracle 500.
		for _, token := range []string{"not-a-token", expired, otherAudience} {
			if ours, oracle := ask(t, p.ours, bearerCall(token)), ask(t, p.oracle, bearerCall(token)); ours.code != 401 || oracle.code != 500 {
				t.Errorf("ours HTTP %d (want 401), the oracle HTTP %d %q (want 500)", ours.code, oracle.code, oracle.body)
			}
		}
	})
	t.Run("a token in the WebSocket subprotocol", func(t *testing.T) {
		// The oracle's authenticator also takes `base64url.bearer.authorization.k8s.io.<token>`
		// from Sec-WebSocket-Protocol (kubectl exec's way); ours reads Authorization only: no
		// scraper sends a token any other way, and each way accepted is one more to get right.
		s := call{http.MethodGet, "/metrics", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Protocol": "channel.k8s.io, base64url.bearer.authorization.k8s.io." + base64.RawURLEncoding.EncodeToString([]byte(scraper))}}
		if ours, oracle := ask(t, p.ours, s), ask(t, p.oracle, s); ours.code != 401 || oracle.code != 200 {
			t.Errorf("ours HTTP %d (want 401), the oracle HTTP %d (want 200)", ours.code, oracle.code)
		}
	})
	t.Run("the API server unreachable", func(t *testing.T) {
		// Both refuse: ours with 503 (retry later), the oracle with 500.
		port, err := harness.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		down := rest.CopyConfig(filterCfg)
		down.Host = fmt.Sprintf("https://127.0.0.1:%d", port)
		d := newAuthPair(t, down)
		if ours, oracle := ask(t, d.ours, bearerCall(scraper)), ask(t, d.oracle, bearerCall(scraper)); ours.code != 503 || oracle.code != 500 {
			t.Errorf("ours HTTP %d (want 503), the oracle HTTP %d (want 500)", ours.code, oracle.code)
		}
	})

	// The cache: both remember a decision, for different times. Within them both serve the
	// remembered one; past ours (advanced on its clock) ours asks again, and gives what a fresh
	// oracle — one whose cache is empty, as the oracle's is once its longer TTL has passed — gives.
	t.Run("a grant revoked while cached", func(t *testing.T) {
		p := newAuthPair(t, filterCfg)
		s := bearerCall(saToken(t, ctx, ns, "revoked"))
		p.both(t, "bound to the metrics reader", s, 200)
		bind(t, ctx, ns, "revoked", reader, "/metrics", false)
		p.both(t, "binding deleted, decision cached (ours 1m, the oracle 5m)", s, 200)
		p.clock.advance(metricsauth.DefaultTTL)
		if ours, fresh := ask(t, p.ours, s), ask(t, newAuthPair(t, filterCfg).oracle, s); ours.code != 403 || fresh.decision() != 403 {
			t.Errorf("past our TTL: ours HTTP %d, a fresh oracle HTTP %d, want 403 from both", ours.code, fresh.code)
		}
	})
	t.Run("a grant added while a refusal is cached", func(t *testing.T) {
		p := newAuthPair(t, filterCfg)
		s := bearerCall(saToken(t, ctx, ns, "late"))
		p.both(t, "no grant yet", s, 403)
		bind(t, ctx, ns, "late", reader, "/metrics", true)
		p.both(t, "bound, refusal cached (ours 10s, the oracle 30s)", s, 403)
		p.clock.advance(metricsauth.DefaultDenyTTL)
		if ours, fresh := ask(t, p.ours, s), ask(t, newAuthPair(t, filterCfg).oracle, s); ours.code != 200 || fresh.code != 200 || ours.body != fresh.body {
			t.Errorf("past our deny TTL: ours HTTP %d, a fresh oracle HTTP %d, want 200 and the same body from both", ours.code, fresh.code)
		}
	})
}

// grantRBAC creates namespace ns, ServiceAccounts sas, the chart's ServiceAccount and RBAC with
// metrics.secure (rendered by helm: exactly what a release gets, with scraper in metrics.readers),
// a ClusterRole for get on /debug bound to debugger, and the metrics reader bound to revoked; it
// waits until the API server's authorizer sees them.
func grantRBAC(t *testing.T, ctx context.Context, ns, release string, sas []string, reader string) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	createSAs(t, ctx, ns, sas...)
	rendered := helmCmd(t, "template", release, filepath.Join(root, "charts", "tilt-lib-injector"), "-n", ns,
		"--show-only", "templates/serviceaccount.yaml", "--show-only", "templates/rbac.yaml", "--set", "metrics.secure=true",
		"--set-json", `metrics.readers=[{"kind":"ServiceAccount","name":"scraper","namespace":"`+ns+`"}]`)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rbac.yaml"), []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	objs, err := inj.ApplyDir(ctx, dir)
	if err != nil {
		t.Fatalf("the chart's RBAC: %v", err)
	}
	c, err := client.New(inj.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, o := range objs {
			_ = c.Delete(context.Background(), o)
		}
	})
	rbac := inj.Client.RbacV1()
	debug := ns + "-debug-reader"
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: debug},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/debug"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), debug, metav1.DeleteOptions{}) })
	bind(t, ctx, ns, "debugger", debug, "/debug", true)
	bind(t, ctx, ns, "revoked", reader, "/metrics", true)
	waitAccess(t, ctx, ns, "scraper", &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}, nil, true)
	for _, r := range []struct{ group, resource string }{{"authentication.k8s.io", "tokenreviews"}, {"authorization.k8s.io", "subjectaccessreviews"}} {
		waitAccess(t, ctx, ns, release+"-tilt-lib-injector", nil, &authorizationv1.ResourceAttributes{Group: r.group, Resource: r.resource, Verb: "create"}, true)
	}
}

// bind creates (or, with create false, deletes) a ClusterRoleBinding of ServiceAccount ns/sa to
// ClusterRole role, and waits until the API server's authorizer agrees about get on path.
func bind(t *testing.T, ctx context.Context, ns, sa, role, path string, create bool) {
	t.Helper()
	rbac, crb := inj.Client.RbacV1().ClusterRoleBindings(), ns+"-"+sa
	if create {
		_, err := rbac.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: crb},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rbac.Delete(context.Background(), crb, metav1.DeleteOptions{}) })
	} else if err := rbac.Delete(ctx, crb, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAccess(t, ctx, ns, sa, &authorizationv1.NonResourceAttributes{Path: path, Verb: "get"}, nil, create)
}

// waitAccess waits until a SubjectAccessReview for ServiceAccount ns/sa answers want.
func waitAccess(t *testing.T, ctx context.Context, ns, sa string, nonResource *authorizationv1.NonResourceAttributes, resource *authorizationv1.ResourceAttributes, want bool) {
	t.Helper()
	spec := authorizationv1.SubjectAccessReviewSpec{User: "system:serviceaccount:" + ns + ":" + sa,
		Groups:                []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		NonResourceAttributes: nonResource, ResourceAttributes: resource}
	err := harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		r, err := inj.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return r.Status.Allowed == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for the authorizer to answer %v for %s: %v", want, spec.User, err)
	}
}

// createSAs creates namespace ns and ServiceAccounts names in it.
func createSAs(t *testing.T, ctx context.Context, ns string, names ...string) {
	t.Helper()
	if _, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, sa := range names {
		if _, err := inj.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}
