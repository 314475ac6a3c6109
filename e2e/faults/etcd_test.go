//go:build e2e && linux

package faults

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// etcdClient speaks to the control plane's etcd through its JSON gateway (/v3/kv/..., plain HTTP
// on loopback), which every etcd v3 serves on its client URL: no etcd client module needed for
// the three things the faults do behind the API server's back.
type etcdClient struct {
	base *url.URL
	http *http.Client
}

// apiPrefix is kube-apiserver's default --etcd-prefix: objects live under /registry/<resource>/.
const apiPrefix = "/registry/"

func newEtcd(u *url.URL) *etcdClient {
	return &etcdClient{base: u, http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}}
}

func (e *etcdClient) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("etcd %s: reading the answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("etcd %s: %w: %s", path, err, data)
	}
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// put stores obj (JSON: the API server's storage decoder recognises JSON as well as protobuf) at
// /registry/<key>: what a second API server would have written, without its validation.
func (e *etcdClient) put(ctx context.Context, key string, obj any) error {
	value, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return e.call(ctx, "/v3/kv/put", map[string]string{"key": b64(apiPrefix + key), "value": base64.StdEncoding.EncodeToString(value)}, nil)
}

// revision is etcd's current revision.
func (e *etcdClient) revision(ctx context.Context) (int64, error) {
	var out struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := e.call(ctx, "/v3/kv/range", map[string]string{"key": b64(apiPrefix + "namespaces/default")}, &out); err != nil {
		return 0, err
	}
	rev, err := strconv.ParseInt(out.Header.Revision, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd revision %q: %w", out.Header.Revision, err)
	}
	return rev, nil
}

// compact discards every revision before the current one (physically), as the API server's own
// periodic compaction does: a watch asked to resume from an older revision is told it is gone.
func (e *etcdClient) compact(ctx context.Context) (int64, error) {
	rev, err := e.revision(ctx)
	if err != nil {
		return 0, err
	}
	return rev, e.call(ctx, "/v3/kv/compaction", map[string]any{"revision": strconv.FormatInt(rev, 10), "physical": true}, nil)
}
