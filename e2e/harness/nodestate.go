package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// nodeState is what a node run changes on this machine, as it was before the run, and what it
// started. It is written to <dir>/state.json before each change is made, so that the run's own
// Stop, or the next run's start after a crash or an interrupt, can undo everything.
type nodeState struct {
	// Sysctls are the kernel settings kubelet (or anything else here) may flip, with their values
	// before the run; keys are dotted names (vm.overcommit_memory).
	Sysctls map[string]string `json:"sysctls"`
	// AbsentPaths are host folders that did not exist before the run (components create some of
	// them whatever they are told); they are removed if they appear.
	AbsentPaths []string `json:"absentPaths"`
	// Cgroups are cgroup folders that did not exist before the run (kubelet's /kubepods,
	// containerd's /k8s.io, in every hierarchy, and the tracking cgroup); removed bottom-up.
	Cgroups []string `json:"cgroups"`
	// TrackCgroup holds every process the run starts and what they fork (containerd's shims
	// too): its member PIDs are the run's processes, wherever they were reparented.
	TrackCgroup string `json:"trackCgroup"`
	// Routes are the host's routes (main tables, IPv4 and IPv6) before the run.
	Routes []string `json:"routes"`
	// Bridge is the Pod network's bridge, which the run creates (it must not exist before).
	Bridge string `json:"bridge"`
	// Procs are the daemons the run started, by PID and binary.
	Procs []procRecord `json:"procs"`
	// ControlPlane are the etcd and kube-apiserver the harness's control plane started for this
	// run: the run's own Stop leaves them to the control plane, a later run ends them if this
	// one was killed before it could.
	ControlPlane []procRecord `json:"controlPlane"`
	// RunDir is the folder every mount of the run lives under.
	RunDir string `json:"runDir"`
}

// procRecord is a started process: its PID is signalled only while /proc/PID/exe is Binary, so a
// recycled PID of an unrelated process is never touched.
type procRecord struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	Binary string `json:"binary"`
}

const stateFile = "state.json"

// trackCgroupName is the cgroup every process of a node run starts in.
const trackCgroupName = "tilt-lib-injector-e2e-node"

// loadState reads dir's state file; (nil, nil) when there is none (the last run ended cleanly).
func loadState(dir string) (*nodeState, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the node state: %w", err)
	}
	var s nodeState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s is not a node state file (remove it after checking the host by hand): %w",
			filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// save writes the state atomically (write aside, rename): a crash never leaves half a file.
func (s *nodeState) save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the node state: %w", err)
	}
	if err := replaceFileMode(filepath.Join(dir, stateFile), data); err != nil {
		return fmt.Errorf("saving the node state: %w", err)
	}
	return nil
}

// removeState marks a clean end: the next run has nothing to undo.
func removeState(dir string) error {
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the node state: %w", err)
	}
	return nil
}

// replaceFileMode writes data next to path and renames it over path.
func replaceFileMode(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
