package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// WatchLibCommand is what a workspace container runs on the e2e node instead of `coder agent`:
// it prints the first line of the mounted library whenever it changes (checking every 100 ms), so
// that the Pod's log, stamped by the container runtime, says when the running container first
// read each version (FollowLib reads it back).
// As the container's PID 1 it must exit on SIGTERM itself (the kernel ignores the signal for a
// PID 1 without a handler, and kubelet would wait out the grace period).
const WatchLibCommand = `trap 'exit 0' TERM; prev=; while :; do cur=$(head -n 1 /apps/tilt-lib/tilt_lib.star 2>/dev/null); ` +
	`if [ "$cur" != "$prev" ]; then echo "lib: $cur"; prev=$cur; fi; sleep 0.1; done`

// RunOnNode makes a workspace Pod template of examples/ runnable on the e2e node: every container
// runs WorkspaceImage with imagePullPolicy Never (nothing is pulled: there is no registry) and
// WatchLibCommand (init containers: `true`) instead of the template's image and command.
// Everything else (labels, user, volumes, resources) stays as the template says.
func RunOnNode(spec *corev1.PodSpec) {
	run := func(c *corev1.Container, command ...string) {
		c.Image, c.ImagePullPolicy = WorkspaceImage, corev1.PullNever
		c.Command, c.Args = command, nil
	}
	for i := range spec.InitContainers {
		run(&spec.InitContainers[i], "true") // an init container must finish
	}
	for i := range spec.Containers {
		run(&spec.Containers[i], "sh", "-c", WatchLibCommand)
	}
}

// LibSighting is a line of a WatchLibCommand container's log: when the container runtime stamped
// it, and the library's first line the container read.
type LibSighting struct {
	At    time.Time
	First string
}

// FollowLib streams the log of a WatchLibCommand container (with the runtime's timestamps) and
// sends each sighting, until ctx ends or the stream does (the channel is then closed).
func FollowLib(ctx context.Context, c kubernetes.Interface, namespace, pod, container string) (<-chan LibSighting, error) {
	req := c.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true, Timestamps: true})
	stream, err := req.Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("following the log of %s/%s: %w", namespace, pod, err)
	}
	out := make(chan LibSighting, 64)
	go func() {
		defer close(out)
		defer stream.Close()
		sc := bufio.NewScanner(stream)
		for sc.Scan() {
			stamp, line, ok := strings.Cut(sc.Text(), " ")
			at, err := time.Parse(time.RFC3339Nano, stamp)
			if !ok || err != nil || !strings.HasPrefix(line, "lib: ") {
				continue
			}
			select {
			case out <- LibSighting{At: at, First: strings.TrimPrefix(line, "lib: ")}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// AwaitLib waits for the sighting of the library whose first line is first and returns when the
// container read it; sightings of other versions are skipped.
func AwaitLib(seen <-chan LibSighting, first string, timeout time.Duration) (time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	last := "nothing"
	for {
		select {
		case s, ok := <-seen:
			if !ok {
				return time.Time{}, fmt.Errorf("the log stream ended (last read %q)", last)
			}
			if s.First == first {
				return s.At, nil
			}
			last = s.First
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("the container did not read %q within %s (last read %q)", first, timeout, last)
		}
	}
}

// Kubectl runs the control plane's kubectl as the admin, with its discovery cache in the work dir
// (not ~/.kube); a non-zero exit is an *exec.ExitError, returned with the output.
func (inj *Injector) Kubectl(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	args = append([]string{"--kubeconfig", inj.Kubeconfig, "--cache-dir", filepath.Join(inj.WorkDir, "kubectl-cache")}, args...)
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, inj.KubectlPath(), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}
