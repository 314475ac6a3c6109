package rollout

// Rollout keys: what identifies the workspace whose bucket decides (the rollout's `key`).
const (
	// KeyWorkspace buckets each workspace on its own (the default).
	KeyWorkspace = "workspace"
	// KeyUser buckets every workspace of one owner together.
	KeyUser = "user"
)

// The Pod labels Coder's kubernetes template sets on a workspace Pod. Its Pods are created with
// generateName, so the Pod name changes at every start; these ids do not.
const (
	LabelWorkspaceID = "com.coder.workspace.id"
	LabelUserID      = "com.coder.user.id"
)

// KeyOf returns the key a Pod is bucketed by under kind (KeyWorkspace or KeyUser; anything else
// is treated as KeyWorkspace, which Validate leaves as the only other value): the value of the
// kind's label when set, else "<namespace>/<name>" when the Pod's name was chosen by whoever
// created it (no generateName) — the same name next time means the same workspace. A generated
// name, or no name at all, is no key (ok false): bucketing it would give the workspace a new arm
// at every restart, so the caller leaves it on the baseline (reason rollout_no_key).
func KeyOf(kind, namespace, name, generateName string, labels map[string]string) (key string, ok bool) {
	label := LabelWorkspaceID
	if kind == KeyUser {
		label = LabelUserID
	}
	if v := labels[label]; v != "" {
		return v, true
	}
	if name == "" || generateName != "" {
		return "", false
	}
	return namespace + "/" + name, true
}
