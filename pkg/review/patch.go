package review

import (
	"encoding/json"
	"slices"
	"strconv"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
)

// marshalPatch appends the JSON of ops exactly as encoding/json marshals them (through
// jsonpatch.Operation's MarshalJSON), which is what controller-runtime sends. The values mutate
// puts in a patch (strings, string maps, ConfigMap volumes, mounts) are written directly; any
// other value falls back to encoding/json, so a new kind of value stays correct, only slower.
func marshalPatch(dst []byte, ops []jsonpatch.Operation) ([]byte, error) {
	dst = append(dst, '[')
	for i, op := range ops {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"op":`...)
		dst = appendString(dst, op.Operation)
		dst = append(dst, `,"path":`...)
		dst = appendString(dst, op.Path)
		if op.Value == nil && op.Operation != "add" && op.Operation != "replace" {
			dst = append(dst, '}')
			continue
		}
		dst = append(dst, `,"value":`...)
		var err error
		if dst, err = appendValue(dst, op.Value); err != nil {
			return nil, err
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(dst, v), nil
	case map[string]string:
		if len(v) <= 8 {
			return appendStringMap(dst, v), nil
		}
	case corev1.Volume:
		if configMapVolume(v) {
			return appendVolume(dst, v), nil
		}
	case []corev1.Volume:
		if !slices.ContainsFunc(v, func(v corev1.Volume) bool { return !configMapVolume(v) }) {
			return appendList(dst, v, appendVolume), nil
		}
	case corev1.VolumeMount:
		if plainMount(v) {
			return appendMount(dst, v), nil
		}
	case []corev1.VolumeMount:
		if !slices.ContainsFunc(v, func(m corev1.VolumeMount) bool { return !plainMount(m) }) {
			return appendList(dst, v, appendMount), nil
		}
	}
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

// appendStringMap writes keys sorted, as encoding/json does; mutate's maps hold one or two.
func appendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var arr [8]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, m[k])
	}
	return append(dst, '}')
}

func appendList[T any](dst []byte, items []T, one func([]byte, T) []byte) []byte {
	if items == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = one(dst, it)
	}
	return append(dst, ']')
}

// configMapVolume reports whether v is a volume of a ConfigMap with at most a name and
// optional: the volumes mutate adds.
func configMapVolume(v corev1.Volume) bool {
	cm := v.ConfigMap
	return cm != nil && v == (corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{ConfigMap: cm}}) &&
		cm.Items == nil && cm.DefaultMode == nil
}

func appendVolume(dst []byte, v corev1.Volume) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, v.Name)
	dst = append(dst, `,"configMap":{`...)
	sep := ""
	if v.ConfigMap.Name != "" {
		dst = append(dst, `"name":`...)
		dst = appendString(dst, v.ConfigMap.Name)
		sep = ","
	}
	if v.ConfigMap.Optional != nil {
		dst = append(dst, sep+`"optional":`...)
		dst = strconv.AppendBool(dst, *v.ConfigMap.Optional)
	}
	return append(dst, "}}"...)
}

// plainMount reports whether m has at most a name, a path and readOnly: the mounts mutate adds.
func plainMount(m corev1.VolumeMount) bool {
	return m.RecursiveReadOnly == nil && m.SubPath == "" && m.MountPropagation == nil && m.SubPathExpr == "" &&
		m.BindMountOptions == nil
}

func appendMount(dst []byte, m corev1.VolumeMount) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, m.Name)
	if m.ReadOnly {
		dst = append(dst, `,"readOnly":true`...)
	}
	dst = append(dst, `,"mountPath":`...)
	dst = appendString(dst, m.MountPath)
	return append(dst, '}')
}
