package mutate

import (
	"fmt"
	"path"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// EnvboxMode says which target containers run Coder's envbox, whose inner container (the
// developer's real environment) sees an outer mount only when CODER_MOUNTS lists it.
type EnvboxMode string

const (
	// EnvboxAuto: a target container with CODER_INNER_IMAGE in its env runs envbox.
	EnvboxAuto EnvboxMode = "auto"
	// EnvboxOff: no container is treated as envbox; CODER_MOUNTS is never touched.
	EnvboxOff EnvboxMode = "off"
	// EnvboxForce: every target container is treated as envbox.
	EnvboxForce EnvboxMode = "force"
)

// EnvboxModes are the valid modes, in the order the flag's help lists them.
var EnvboxModes = []EnvboxMode{EnvboxAuto, EnvboxOff, EnvboxForce}

// EnvboxOutcome is what Mutate did about CODER_MOUNTS (metric label; bounded).
type EnvboxOutcome string

const (
	// EnvboxNone: no container carrying a component runs envbox.
	EnvboxNone EnvboxOutcome = ""
	// EnvboxAdded: the patch lists at least one component in a CODER_MOUNTS.
	EnvboxAdded EnvboxOutcome = "added"
	// EnvboxPresent: every envbox container already lists what it carries.
	EnvboxPresent EnvboxOutcome = "present"
	// EnvboxUntouched: a CODER_MOUNTS was left alone (envbox_mounts_untouched).
	EnvboxUntouched EnvboxOutcome = "untouched"
)

// envboxOf decides CODER_MOUNTS for every container carrying a component, and reports whether any
// container's CODER_MOUNTS lists one of our components after the patch (the record's "envbox")
// and what was done. For each envbox container, each component it carries:
//
//	CODER_MOUNTS from valueFrom, or not 2–3 ':' tokens per ',' item: left alone (envbox_mounts_untouched)
//	our destination listed with our source:                           nothing to add
//	our destination listed with another source:                       that component not listed (envbox_mounts_untouched)
//	destination not listed:                                           "<path>:<path>:ro" appended
//
// The value's env var is added when absent, its value set ("add" on the member) when present; the
// last of duplicate CODER_MOUNTS vars is the one the kubelet passes, so it is the one read and set.
func envboxOf(p *patch, o Options, pod *corev1.Pod, plans []componentPlan, fs *findings) (bool, EnvboxOutcome) {
	if o.Envbox == EnvboxOff {
		return false, EnvboxNone
	}
	listed, added, untouched, any := false, false, false, false
	for i := range considered(pod) {
		c := &pod.Spec.Containers[i]
		if !isEnvbox(o.Envbox, c) {
			continue
		}
		want := envboxWant(plans, i)
		if len(want) == 0 {
			continue
		}
		any = true
		j := lastEnv(c.Env, CoderMountsEnv)
		if j >= 0 && c.Env[j].ValueFrom != nil {
			untouched = true
			fs.add(ReasonEnvboxMountsUntouched, "", "container %s sets %s from valueFrom, which the webhook cannot extend; the tilt components are mounted but not listed for envbox's inner container",
				quote(c.Name), CoderMountsEnv)
			continue
		}
		value := ""
		if j >= 0 {
			value = c.Env[j].Value
		}
		have, err := ParseCoderMounts(value)
		if err != nil {
			untouched = true
			fs.add(ReasonEnvboxMountsUntouched, "", "container %s: %s %s is not what envbox reads (%v); left alone, the tilt components are not listed for envbox's inner container",
				quote(c.Name), CoderMountsEnv, quote(value), err)
			continue
		}
		add := want[:0:0]
		for k, m := range want {
			switch h := findDestination(have, m.Destination); {
			case h == nil:
				add = append(add, m)
			case path.Clean(h.Source) == m.Source:
				listed = true
			default:
				untouched = true
				fs.add(ReasonEnvboxMountsUntouched, wantComponent(plans, i, k), "container %s: %s already maps %s to source %s; %s not listed for envbox's inner container",
					quote(c.Name), CoderMountsEnv, m.Destination, quote(h.Source), wantComponent(plans, i, k))
			}
		}
		next, changed := AppendCoderMounts(value, have, add)
		if !changed {
			continue
		}
		listed, added = true, true
		env := "/spec/containers/" + strconv.Itoa(i) + "/env"
		switch {
		case j >= 0:
			p.add(env+"/"+strconv.Itoa(j)+"/value", next)
		case len(c.Env) == 0:
			p.add(env, []corev1.EnvVar{{Name: CoderMountsEnv, Value: next}})
		default:
			p.add(env+"/-", corev1.EnvVar{Name: CoderMountsEnv, Value: next})
		}
	}
	switch {
	case untouched:
		return listed, EnvboxUntouched
	case added:
		return listed, EnvboxAdded
	case any:
		return listed, EnvboxPresent
	}
	return listed, EnvboxNone
}

// envboxWant is the CODER_MOUNTS item of each component container i carries, in component order.
func envboxWant(plans []componentPlan, i int) []CoderMount {
	var want []CoderMount
	for _, pl := range plans {
		if carries(pl, i) {
			want = append(want, CoderMount{Source: pl.MountPath, Destination: pl.MountPath, Option: "ro"})
		}
	}
	return want
}

// wantComponent names the component of envboxWant(plans, i)[k].
func wantComponent(plans []componentPlan, i, k int) string {
	for _, pl := range plans {
		if carries(pl, i) {
			if k == 0 {
				return pl.Name
			}
			k--
		}
	}
	return ""
}

func carries(pl componentPlan, i int) bool {
	for _, c := range pl.carriers {
		if c == i {
			return true
		}
	}
	return false
}

// isEnvbox reports whether container c runs envbox under mode.
func isEnvbox(mode EnvboxMode, c *corev1.Container) bool {
	switch mode {
	case EnvboxForce:
		return true
	case EnvboxOff:
		return false
	}
	return lastEnv(c.Env, CoderInnerImageEnv) >= 0
}

// lastEnv returns the index of the last env var called name, -1 when there is none.
func lastEnv(env []corev1.EnvVar, name string) int {
	for j := len(env) - 1; j >= 0; j-- {
		if env[j].Name == name {
			return j
		}
	}
	return -1
}

// validEnvboxMode reports an error for a mode that is not one of EnvboxModes.
func validEnvboxMode(m EnvboxMode) error {
	for _, v := range EnvboxModes {
		if m == v {
			return nil
		}
	}
	return fmt.Errorf("envbox mode %q is not one of %v", m, EnvboxModes)
}
