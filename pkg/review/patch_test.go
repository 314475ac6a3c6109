package review

import (
	"encoding/json"
	"testing"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestMarshalPatch holds marshalPatch to encoding/json's bytes for every kind of value, the
// direct ones and those that fall back, including strings that need escaping.
func TestMarshalPatch(t *testing.T) {
	odd := "a<b>&\"\\\n\t\x01\u2028\xff é"
	ops := []jsonpatch.Operation{
		{Operation: "add", Path: "/spec/volumes", Value: []corev1.Volume{{Name: "tilt-lib", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "tilt-lib-v2"}, Optional: ptr.To(true)}}}}},
		{Operation: "add", Path: "/spec/volumes/-", Value: corev1.Volume{Name: odd, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}},
		{Operation: "add", Path: "/spec/volumes/-", Value: corev1.Volume{Name: "x", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{DefaultMode: ptr.To[int32](420)}}}},
		{Operation: "add", Path: "/spec/volumes/-", Value: corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		{Operation: "add", Path: "/spec/containers/0/volumeMounts", Value: []corev1.VolumeMount{{Name: "tilt-lib", MountPath: "/apps/tilt-lib", ReadOnly: true}, {Name: odd, MountPath: odd}}},
		{Operation: "add", Path: "/spec/containers/1/volumeMounts/-", Value: corev1.VolumeMount{Name: "m", MountPath: "/m", SubPath: "s"}},
		{Operation: "add", Path: "/spec/containers/1/volumeMounts/-", Value: corev1.VolumeMount{Name: "m", MountPath: "/m", BindMountOptions: []string{"x"}}},
		{Operation: "add", Path: "/metadata/annotations", Value: map[string]string{"z": odd, "a": "{\"json\":[1]}", odd: ""}},
		{Operation: "add", Path: "/metadata/labels/tilt-lib.platform~1version", Value: "v2"},
		{Operation: "add", Path: "/metadata/labels/x", Value: nil},
		{Operation: "add", Path: "/metadata/labels", Value: map[string]string(nil)},
		{Operation: "add", Path: "/spec/volumes", Value: []corev1.Volume(nil)},
		{Operation: "remove", Path: "/metadata/annotations/tilt-lib.platform~1injected"},
		{Operation: "add", Path: "/x", Value: 42},
	}
	for i := range ops {
		want, err := json.Marshal(ops[:i+1])
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalPatch(nil, ops[:i+1])
		if err != nil || string(got) != string(want) {
			t.Fatalf("ops[:%d]: got %s (%v)\nwant %s", i+1, got, err, want)
		}
	}
}

// TestAppendString holds appendString to encoding/json for every byte and some runes.
func TestAppendString(t *testing.T) {
	var all []byte
	for b := range 256 {
		all = append(all, byte(b))
	}
	for _, s := range []string{"", string(all), "\u2028\u2029", "é\xc3", "\xed\xa0\x80", "plain"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}
