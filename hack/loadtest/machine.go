package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes where the numbers come from.
type Machine struct {
	CPU     string
	Cores   int
	Go      string
	LoadAvg string // /proc/loadavg's 1, 5 and 15 minute averages when the run started
}

func (m Machine) String() string {
	return fmt.Sprintf("%s, %d cores, %s, %s/%s; load average at start %s", m.CPU, m.Cores, m.Go, runtime.GOOS, runtime.GOARCH, m.LoadAvg)
}

func thisMachine() Machine {
	m := Machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), Go: runtime.Version(), LoadAvg: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}
