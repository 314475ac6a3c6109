#!/usr/bin/env python3
"""The oracle of pkg/rollout's Bucket (hash version 1), written from the spec in docs/design.md,
not from the Go code:

    bucket = hi64(uint64_be(sha256(salt || 0x00 || key)[0:8]) * 10000)

Python integers are unbounded, so the high 64 bits of the 128-bit product are (x * 10000) >> 64.
Regenerate with: python3 pkg/rollout/testdata/buckets.py > pkg/rollout/testdata/buckets.tsv
"""
import hashlib

def bucket(salt, key):
    x = int.from_bytes(hashlib.sha256(salt.encode() + b"\0" + key.encode()).digest()[:8], "big")
    return (x * 10000) >> 64

rows = []
salt = "tilt-lib-v3"
# 200 workspace ids like Coder's UUIDs (the e2e's workspaces), the vector first.
for i in range(1, 201):
    rows.append((salt, "00000000-0000-0000-0000-%012d" % i))
# The same 200 ids under a new salt: the e2e's reshuffle (a new salt moves other workspaces in).
for i in range(1, 201):
    rows.append(("tilt-lib-v3-reshuffled", "00000000-0000-0000-0000-%012d" % i))
# Another salt reshuffles; user ids, namespace/name keys, an empty key, non-ASCII.
for k in ["00000000-0000-0000-0000-000000000001", "team-a/ws-1", "", "é/ü"]:
    rows.append(("tilt-lib-v3-b", k))
rows.append(("", "k"))
rows.append(("s" * 253, "team-a/" + "n" * 253))
# The boundary of 10 %: the first key of the series ws-<i> in bucket 999 and the first in 1000.
want = {999: None, 1000: None}
i = 0
while None in want.values():
    k = "ws-%d" % i
    b = bucket(salt, k)
    if b in want and want[b] is None:
        want[b] = k
    i += 1
rows += [(salt, want[999]), (salt, want[1000])]

print("# salt\tkey\tbucket (hash version 1), written by buckets.py")
for s, k in rows:
    print("%s\t%s\t%d" % (s, k, bucket(s, k)))
