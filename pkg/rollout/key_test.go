package rollout

import "testing"

func TestKeyOf(t *testing.T) {
	both := map[string]string{LabelWorkspaceID: "ws-uuid", LabelUserID: "user-uuid"}
	for _, c := range []struct {
		name                   string
		kind, ns, pod, genName string
		labels                 map[string]string
		want                   string
		wantOK                 bool
	}{
		{"workspace label", KeyWorkspace, "team-a", "", "coder-jdoe-ws-", both, "ws-uuid", true},
		{"user label", KeyUser, "team-a", "", "coder-jdoe-ws-", both, "user-uuid", true},
		{"empty kind is workspace", "", "team-a", "", "coder-", both, "ws-uuid", true},
		{"workspace kind ignores the user label", KeyWorkspace, "team-a", "", "coder-", map[string]string{LabelUserID: "u"}, "", false},
		{"user kind ignores the workspace label", KeyUser, "team-a", "", "coder-", map[string]string{LabelWorkspaceID: "w"}, "", false},
		{"empty label value is no label", KeyWorkspace, "team-a", "ws-1", "", map[string]string{LabelWorkspaceID: ""}, "team-a/ws-1", true},
		{"chosen name", KeyWorkspace, "team-a", "ws-1", "", nil, "team-a/ws-1", true},
		{"generated name, no label", KeyWorkspace, "team-a", "", "coder-jdoe-ws-", nil, "", false},
		{"name derived from generateName", KeyWorkspace, "team-a", "coder-jdoe-ws-x7k2p", "coder-jdoe-ws-", nil, "", false},
		{"no name at all", KeyWorkspace, "team-a", "", "", nil, "", false},
	} {
		got, ok := KeyOf(c.kind, c.ns, c.pod, c.genName, c.labels)
		if got != c.want || ok != c.wantOK {
			t.Errorf("%s: KeyOf = %q, %v; want %q, %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}
