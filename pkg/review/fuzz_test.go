package review

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// wrap puts obj, whatever its bytes, into an AdmissionReview creating a Pod in team-a.
func wrap(apiVersion string, dryRun bool, obj []byte) []byte {
	b := []byte(`{"apiVersion":"` + apiVersion + `","kind":"AdmissionReview","request":{"uid":"705ab4f5","kind":{"version":"v1","kind":"Pod"},` +
		`"resource":{"version":"v1","resource":"pods"},"namespace":"team-a","operation":"CREATE","object":`)
	b = append(b, obj...)
	if dryRun {
		b = append(b, `,"dryRun":true`...)
	}
	return append(b, "}}"...)
}

// FuzzDifferential sends arbitrary bodies, and arbitrary objects inside v1 and v1beta1 reviews,
// through controller-runtime's path and ours: they must give the same bytes and the same
// metrics and Events, or both refuse with the same code and UID, or controller-runtime refuses a
// type error in a field the slim view does not read, or (ours) the body is not a JSON object.
// mode: bits 0-1 pick the body (as is, v1, v1beta1, v1 dry-run), bit 2 a wrong Content-Type.
func FuzzDifferential(f *testing.F) {
	pods, _ := filepath.Glob("../mutate/testdata/*/pod.yaml")
	for i, file := range pods {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var pod corev1.Pod
		if err := yaml.Unmarshal(b, &pod); err != nil {
			f.Fatal(err)
		}
		obj, err := json.Marshal(&pod)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(nil), obj, uint8(1+i%3))
	}
	ws, _ := json.Marshal(reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws", Annotations: map[string]string{keyVersion: "v3"}, Sidecars: 1, InitContainers: 1, Volumes: 1}))
	f.Add(ws, ws, uint8(0))
	f.Add(wrap("admission.k8s.io/v1beta1", false, ws), []byte(nil), uint8(0))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), []byte(nil), uint8(0))
	f.Add([]byte("\x00garbage"), []byte(`{"kind":"Service","apiVersion":"v1"}`), uint8(1))
	f.Add([]byte(`{"request":{"uid":"x","operation":"CREATE","namespace":"team-a","resource":{"version":"v1","resource":"pods"},"object":{"metadata":{"labels":{"a":"b"},"labels":null}}}}`), []byte(`null`), uint8(0))
	f.Add([]byte(`{"request":{}}`), []byte(`{"spec":{"containers":[{"name":"dev","env":[null,{"name":"CODER_AGENT_TOKEN","name":null}]}],"volumes":[{"name":"tilt-lib","configMap":{"name":"tilt-lib"}}]}}`), uint8(2))
	f.Add([]byte(`{}`), []byte(`{"metadata":{"annotations":{"tilt-lib.platform/containers":"dev,x","tilt-lib.platform/version":"\u0076\ud8002"}},"spec":{"containers":[{"name":"d\u0065v","volumeMounts":[{"name":"x","mountPath":"/apps/tilt-lib/"}]}]}}`), uint8(7))
	// Env variants of envbox containers (issue 20): the slim view keeps the last CODER_MOUNTS, its
	// value or valueFrom, whichever order the keys come in, duplicates, nulls and escapes.
	for _, env := range []string{
		`[{"name":"CODER_INNER_IMAGE","value":"i"},{"name":"CODER_MOUNTS","value":"/home/coder:/home/coder"}]`,
		`[{"value":"/a:/b","name":"CODER_MOUNTS"},{"name":"CODER_INNER_IMAGE"}]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"CODER_MOUNTS","value":"/a:/b"},{"name":"X"},{"name":"CODER_MOUNTS","value":"/apps/tilt-lib:/apps/tilt-lib:ro"}]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"CODER_MOUNTS","valueFrom":{"configMapKeyRef":{"name":"m","key":"k"}}}]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"CODER_MOUNTS","valueFrom":{},"valueFrom":null,"value":"/a:/b","value":null}]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"FOO","value":"/x:/apps/template","name":"CODER_MOUNTS"},null]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"CODER_MOUNTS","value":"/a:/b,,/c"}]`,
		`[{"name":"CODER_INNER_IMAGE"},{"name":"CODER_MOUNTS","value":"\u002fa:\/b\u00e9\ud800"}]`,
		`[{"name":"CODER_\u004dOUNTS","value":"/a:/b"},{"name":"CODER_INNER_IMAGE","name":null}]`,
		`[{"name":"CODER_MOUNTS","value":""},{"name":"CODER_INNER_IMAGE","value":"x"},{"name":"CODER_AGENT_TOKEN"}]`,
	} {
		f.Add([]byte(nil), []byte(`{"metadata":{"labels":{"app.kubernetes.io/name":"coder-workspace"}},"spec":{"containers":[{"name":"dev","env":`+env+`}]}}`), uint8(1))
	}

	p := newPaths(defaultEnv())
	f.Fuzz(func(t *testing.T, body, obj []byte, mode uint8) {
		if len(body) > 1<<16 || len(obj) > 1<<16 {
			return // the body limit has its own test; the fuzzer's time is better spent on shapes
		}
		switch mode & 3 {
		case 1:
			body = wrap(v1, false, obj)
		case 2:
			body = wrap(v1beta1, false, obj)
		case 3:
			body = wrap(v1, true, obj)
		}
		ct := "application/json"
		if mode&4 != 0 {
			ct = "application/json; charset=utf-8"
		}
		p.compare(t, call{body, ct})
	})
}
