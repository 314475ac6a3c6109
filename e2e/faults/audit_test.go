//go:build e2e && linux

package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The API server's audit log, restricted to the replicas' own user and to the two resources the
// decision reads, is the evidence that a fault really forced a relist: a relist is a LIST, or a
// watch that asks for the initial state (sendInitialEvents=true, client-go's watch-list); a
// resumed watch is neither.

// replicaUser is the identity every replica authenticates as (system:masters, like the admin:
// RBAC is not what these faults are about).
const replicaUser = "tilt-lib-injector-replica"

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["` + replicaUser + `"]
    resources: [{group: "", resources: ["namespaces", "configmaps"]}]
  - level: None
`

// auditFlags writes the policy into dir and returns the API server flags that enable it.
func auditFlags(dir string) (map[string]string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, fmt.Errorf("audit policy: %w", err)
	}
	return map[string]string{"audit-policy-file": policy, "audit-log-path": filepath.Join(dir, "audit.log")}, nil
}

// relists counts, per resource, the distinct requests of the replicas that (re)started from the
// full state: LISTs and watch-list watches.
func (c *cluster) relists() (map[string]int, error) {
	f, err := os.Open(filepath.Join(c.workDir, "audit.log"))
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		var ev struct {
			AuditID    string `json:"auditID"`
			Verb       string `json:"verb"`
			RequestURI string `json:"requestURI"`
			ObjectRef  struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || seen[ev.AuditID] {
			continue
		}
		if ev.Verb == "list" || (ev.Verb == "watch" && strings.Contains(ev.RequestURI, "sendInitialEvents=true")) {
			seen[ev.AuditID] = true
			out[ev.ObjectRef.Resource]++
		}
	}
	return out, sc.Err()
}
