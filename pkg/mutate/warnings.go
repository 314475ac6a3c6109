package mutate

import (
	"fmt"
	"strconv"
)

// Finding is one reason with the sentence a developer reads in kubectl's output.
type Finding struct {
	Reason Reason
	// Component is the volume name the finding is about; empty when it concerns the whole Pod.
	Component string
	// Message is the sentence without the reason code; every developer-supplied value in it is
	// quoted and truncated.
	Message string
}

// Text is the Message with its reason code appended, as every warning shows it, so what a
// developer reads can be matched with the status annotation and the metrics.
func (f Finding) Text() string {
	return f.Message + " (reason: " + string(f.Reason) + ")"
}

// findings collects Findings in the order found.
type findings []Finding

func (fs *findings) add(r Reason, component, format string, args ...any) {
	*fs = append(*fs, Finding{r, component, fmt.Sprintf(format, args...)})
}

// warnings turns findings into admission warnings: prefixed, each ending with its reason code,
// de-duplicated (a set: linear), at most MaxWarnings of them plus one summary of the rest.
func warnings(fs []Finding) []string {
	var out []string
	seen := make(map[string]struct{}, len(fs))
	more := 0
	for _, f := range fs {
		w := WarningPrefix + f.Text()
		if _, dup := seen[w]; dup {
			continue
		}
		seen[w] = struct{}{}
		if len(out) == MaxWarnings {
			more++
			continue
		}
		out = append(out, w)
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("%s%d more warnings not shown (reason: %s)", WarningPrefix, more, ReasonWarningsTruncated))
	}
	return out
}

// quote renders a developer-supplied value (annotation value, container, volume or namespace
// name) for a message: ASCII only (warnings with control or non-ASCII characters may be dropped by
// clients) and bounded (annotation values can be 256 KiB): at most MaxQuotedBytes bytes of input,
// so at most 4*MaxQuotedBytes+5 characters out.
func quote(v string) string {
	if kept, cut := Truncate(v, MaxQuotedBytes); cut > 0 {
		return strconv.QuoteToASCII(kept) + "..."
	}
	return strconv.QuoteToASCII(v)
}
