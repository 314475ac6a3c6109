package harness

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// DefaultServicePort is the injector Service's port, which is also the port the webhook listens
// on: the API server dials <ClusterIP>:<service port> (there is no kube-proxy to translate a
// targetPort), so on this machine the two must be equal.
const DefaultServicePort = 9443

// Service is the injector's ClusterIP Service: the address the webhook binds and the API
// server calls.
type Service struct {
	Name, Namespace string
	ClusterIP       net.IP
	Port            int
}

// Addr is host:port of the Service.
func (s Service) Addr() string { return net.JoinHostPort(s.ClusterIP.String(), strconv.Itoa(s.Port)) }

// CreateService creates namespace (if missing) and a ClusterIP Service name in it. The API
// server allocates the ClusterIP from ServiceCIDR. When DefaultServicePort is taken on that IP
// (another harness on this machine got the same ClusterIP), the Service moves to a free port.
func CreateService(ctx context.Context, c kubernetes.Interface, namespace, name string) (Service, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return Service{}, fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{
			"app.kubernetes.io/name": "tilt-lib-injector",
		}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app.kubernetes.io/name": "tilt-lib-injector"},
			Ports: []corev1.ServicePort{{
				Name: "https", Port: DefaultServicePort, TargetPort: intstr.FromInt32(DefaultServicePort),
				Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	created, err := c.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return Service{}, fmt.Errorf("creating service %s/%s: %w", namespace, name, err)
	}
	ip := net.ParseIP(created.Spec.ClusterIP)
	if ip == nil || !ip.IsLoopback() {
		return Service{}, fmt.Errorf("service %s/%s got ClusterIP %q, not a loopback address: is the API server running with --service-cluster-ip-range=%s?",
			namespace, name, created.Spec.ClusterIP, ServiceCIDR)
	}
	out := Service{Name: name, Namespace: namespace, ClusterIP: ip, Port: DefaultServicePort}
	if portFree(out.Addr()) {
		return out, nil
	}
	if out.Port, err = FreePort(ip.String()); err != nil {
		return Service{}, err
	}
	created.Spec.Ports[0].Port = int32(out.Port)
	created.Spec.Ports[0].TargetPort = intstr.FromInt(out.Port)
	if _, err := c.CoreV1().Services(namespace).Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		return Service{}, fmt.Errorf("moving service %s/%s to port %d: %w", namespace, name, out.Port, err)
	}
	return out, nil
}

// FreePort returns a TCP port that was free on host a moment ago.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("listener on %s has no TCP address", host)
	}
	return addr.Port, nil
}

// FreeAddr is 127.0.0.1:<free port>.
func FreeAddr() (string, error) {
	port, err := FreePort("127.0.0.1")
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// SideAddrs returns two free loopback addresses for a webhook's metrics and probe servers.
func SideAddrs() (metrics, probe string, err error) {
	if metrics, err = FreeAddr(); err != nil {
		return "", "", err
	}
	probe, err = FreeAddr()
	return metrics, probe, err
}

func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
