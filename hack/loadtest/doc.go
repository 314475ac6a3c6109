// Command loadtest is `make loadtest`: the numbers of docs/benchmarks.md (against its "Goals")
// measured side by side in one run, on this machine only.
//
// It builds cmd/webhook and hack/loadtest/arm, starts etcd + kube-apiserver through
// e2e/harness (Service IPs in 127.0.10.0/24), creates namespace team-a pinned to tilt-lib-v2
// with its ConfigMaps, writes one serving certificate for every arm's Service, and starts, each
// as its own process on its Service's loopback ClusterIP:
//
//	ours      the real `webhook serve` in files mode (caches synced before it is ready)
//	empty     controller-runtime's webhook.Server + admission.Webhook answering Allowed("")
//	naive     the same server doing our mutation kubebuilder-style (pkg/review/reviewtest.Naive:
//	          typed decode, marshal and diff with PatchResponseFromRaw)
//	constant  the same server returning ours's patch of the create section's Pod as a constant
//	floor     that patch from a bare handler on the same server (read the body, take the UID,
//	          write a prebuilt answer): the least a webhook returning the patch can cost
//
// Sections, each interleaved (every round runs every arm on every case back to back, the arm
// order rotating by round; see Schedule):
//
//	closed  HTTP/1.1 keep-alive over TLS, N connections each sending its next review when the
//	        previous answer is read, for a time or a count per arm and round; bodies from
//	        reviewtest's ladder (the same reviews as pkg/review's benchmarks)
//	open    reviews on a fixed schedule (a goroutine per review, latency from the scheduled
//	        time, so a slow server cannot slow the sender: no coordinated omission)
//	create  N sequential Pod creations through the API server per arm: no webhook, empty,
//	        floor, constant, ours, each registered alone (failurePolicy Fail) and waited for until a
//	        dry-run create provably reaches it; every stored Pod is checked
//
// It prints the machine, the command, and a table per section with medians and ranges over
// rounds and the ratios of the goals (taken inside each round), and writes the same as Markdown
// with -markdown. Any failed review or create fails the run (exit 1) after printing the report;
// in the open loop, reviews an arm sheds while admitting others are a result (the admitted
// column, and a note), not a failure.
//
// Contract: loopback only; every process is started by this program and stopped by PID
// (SIGTERM, then SIGKILL after 30 s); every count, rate and time has a bound (see the flags);
// the work dir is removed unless the run failed or -work-dir was given.
package main
