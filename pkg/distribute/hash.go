package distribute

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Hash is the content hash of a source or a copy: its data, binaryData, version label and marker
// labels, so a change to any of them (and an edit of a copy) makes the copy out of sync. Without
// marker labels the hash is what it was before they existed. Keys are sorted and
// every field is length-prefixed, so no two contents hash alike by concatenation.
func (s Settings) Hash(c *corev1.ConfigMap) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	v, ok := c.Labels[s.VersionLabel]
	if ok {
		field([]byte("v"))
		field([]byte(v))
	}
	for _, k := range s.MarkerLabels {
		if v, ok := c.Labels[k]; ok {
			field([]byte("m"))
			field([]byte(k))
			field([]byte(v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Data)) {
		field([]byte("d"))
		field([]byte(k))
		field([]byte(c.Data[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(c.BinaryData)) {
		field([]byte("b"))
		field([]byte(k))
		field(c.BinaryData[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
