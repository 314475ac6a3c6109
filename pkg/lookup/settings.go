package lookup

import "strings"

// Settings say what the caches keep.
type Settings struct {
	// AnnotationPrefix: the Namespace annotations kept.
	AnnotationPrefix string
	// Bases are the ConfigMap base names (tilt-lib, tilt-templates): "<base>" and "<base>-<v>"
	// are kept.
	Bases []string
	// VersionLabel is the ConfigMap label kept.
	VersionLabel string
}

// Ours reports whether a ConfigMap name belongs to one of the configured bases.
func (s Settings) Ours(name string) bool {
	for _, b := range s.Bases {
		if name == b || strings.HasPrefix(name, b+"-") {
			return true
		}
	}
	return false
}
