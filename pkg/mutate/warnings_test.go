package mutate_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// knownReasons re-declares the closed set of reasons on purpose, as an oracle: a reason added to
// the package without a decision about it here (and in docs/design.md) fails the tests.
var knownReasons = map[mutate.Reason]bool{
	mutate.ReasonVolumeConflict: true, mutate.ReasonMountPathConflict: true, mutate.ReasonInvalidVersion: true,
	mutate.ReasonConfigMapMissing: true, mutate.ReasonOptedOut: true, mutate.ReasonNoTargetContainer: true,
	mutate.ReasonOverrideForbidden: true, mutate.ReasonUnknownContainer: true, mutate.ReasonInvalidAnnotation: true,
	mutate.ReasonTooManyContainers: true, mutate.ReasonAnnotationsTooLarge: true, mutate.ReasonEnvboxMountsUntouched: true,
	mutate.ReasonRolloutCanary: true, mutate.ReasonRolloutNoKey: true,
}

var reasonSuffix = regexp.MustCompile(`\(reason: ([a-z_]+)\)$`)

// checkWarnings asserts what every admission's warnings must satisfy: at most MaxWarnings plus
// one summary, each prefixed, distinct and ending with a known reason code, and every Finding
// carrying a known reason.
func checkWarnings(t testing.TB, res mutate.Result) {
	t.Helper()
	if len(res.Warnings) > mutate.MaxWarnings+1 {
		t.Errorf("%d warnings, at most %d allowed", len(res.Warnings), mutate.MaxWarnings+1)
	}
	seen := map[string]bool{}
	for i, w := range res.Warnings {
		if !strings.HasPrefix(w, mutate.WarningPrefix) {
			t.Errorf("warning %q lacks the %q prefix", w, mutate.WarningPrefix)
		}
		if seen[w] {
			t.Errorf("duplicate warning %q", w)
		}
		seen[w] = true
		m := reasonSuffix.FindStringSubmatch(w)
		switch {
		case m == nil:
			t.Errorf("warning %q does not end with its reason code", w)
		case mutate.Reason(m[1]) == mutate.ReasonWarningsTruncated && i != len(res.Warnings)-1:
			t.Errorf("the %s summary %q is not the last warning", m[1], w)
		case !knownReasons[mutate.Reason(m[1])] && mutate.Reason(m[1]) != mutate.ReasonWarningsTruncated:
			t.Errorf("warning %q ends with unknown reason %q", w, m[1])
		}
	}
	for _, f := range res.Findings {
		if !knownReasons[f.Reason] {
			t.Errorf("finding %+v has no known reason", f)
		}
	}
}
