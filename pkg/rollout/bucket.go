package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Buckets is the number of buckets: one per hundredth of a percent, so a percent with two
// decimals ("0.05") is a whole number of buckets.
const Buckets = 10000

// HashVersion names the bucket function below. It is frozen: see doc.go.
const HashVersion = 1

// Bucket returns the bucket of key under salt, in [0, Buckets): the first 8 bytes of
// sha256(salt ‖ 0x00 ‖ key) read as a big-endian uint64 x, scaled to [0, Buckets) as the high
// 64 bits of the 128-bit product x × Buckets. Scaling by multiplication instead of x % Buckets
// keeps every bucket equally likely to within 2⁻⁵⁰ (modulo would favour the low buckets), and the
// 0x00 separator keeps ("ab", "c") and ("a", "bc") apart: neither a salt nor a label value holds
// a NUL.
func Bucket(salt, key string) int {
	// On the stack for a salt of up to 253 bytes (MaxSalt) and a key of up to 317
	// (namespace/name); longer input still works, on the heap.
	var buf [640]byte
	b := append(buf[:0], salt...)
	b = append(b, 0)
	b = append(b, key...)
	sum := sha256.Sum256(b)
	hi, _ := bits.Mul64(binary.BigEndian.Uint64(sum[:8]), Buckets)
	return int(hi)
}

// InCanary reports whether a workspace in bucket is in the canary of a rollout at basis
// hundredths of a percent (0 to Buckets): bucket < basis. 0 holds no bucket, Buckets every one,
// and a bucket in at one basis is in at every higher one.
func InCanary(bucket, basis int) bool { return bucket < basis }
