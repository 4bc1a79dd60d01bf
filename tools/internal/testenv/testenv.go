// Package testenv starts a real etcd and kube-apiserver on free loopback
// ports for tests, for everything the server decides (dry-run, server-side
// apply, defaulting, CRD schemas): a fake client silently ignores those.
//
// The binaries come from KUBEBUILDER_ASSETS when it holds them, else from the
// cache dir that scripts/testenv.sh (`make testenv`) builds them into. When
// they are missing, Start fails the test with the command to run: CI must run
// these tests, so they never skip.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// readyTimeout bounds each wait for etcd and for the apiserver's
	// /readyz. The apiserver is ready in about 2 s on an idle machine; the
	// margin is for `go test ./...` building and running other packages on
	// the same cores.
	readyTimeout = 90 * time.Second
	// stopGrace is how long a process has to exit on SIGTERM before it is
	// killed; its data is in a temp dir, so nothing needs a clean shutdown.
	stopGrace = 10 * time.Second
	// startAttempts: a free port can be taken between picking it and the
	// child binding it; such a start is retried on new ports.
	startAttempts = 3
	// logTail is how many log lines a failure message carries.
	logTail = 40

	// serviceCIDR is the Service cluster IP range the apiserver allocates from.
	serviceCIDR = "10.0.0.0/24"
	// adminUser is the user the token authenticates as; system:masters is
	// bound to cluster-admin by the apiserver's RBAC bootstrap policy.
	adminUser = "testenv-admin"
)

// Env is a running etcd and kube-apiserver, stopped when the test ends.
type Env struct {
	host       string // https://127.0.0.1:port
	token      string
	caData     []byte // PEM: the apiserver's self-signed serving cert and its CA
	kubeconfig string
}

// Start starts etcd and kube-apiserver for t, waits until the apiserver is
// ready and stops both when t ends. Their logs are kept under t.TempDir() and
// quoted in failure messages.
func Start(t testing.TB) *Env {
	t.Helper()
	bin, err := binaryDir()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	// Created before the processes start, so its cleanup (removing the dir)
	// runs after theirs (stopping them): cleanups run last-in, first-out.
	dir := t.TempDir()
	ctx := t.Context()
	start := time.Now()

	etcd, etcdURL, err := startEtcd(ctx, bin, dir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { stopAndReport(t, etcd, 0) })
	etcdReady := time.Now()

	env := &Env{token: rand.Text()}
	apiserver, err := env.startAPIServer(ctx, bin, dir, etcdURL)
	if err != nil {
		t.Fatalf("testenv: %v", err) // etcd's cleanup reports it if it died too
	}
	t.Cleanup(func() { stopAndReport(t, apiserver, 20) })
	t.Logf("testenv: etcd ready in %s, kube-apiserver %s at %s in %s",
		etcdReady.Sub(start).Round(time.Millisecond), Version, env.host, time.Since(etcdReady).Round(time.Millisecond))

	env.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := env.writeKubeconfig(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return env
}

// RESTConfig returns a new config for the apiserver, authenticated as a
// cluster admin and verifying the server's certificate. Client-side rate
// limiting is off: the server is local and tests should not wait on it.
func (e *Env) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            e.host,
		BearerToken:     e.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: bytes.Clone(e.caData)},
		QPS:             -1,
	}
}

// Kubeconfig returns the path of a kubeconfig file for the apiserver (same
// credentials as RESTConfig), for CLI tools and subprocesses.
func (e *Env) Kubeconfig() string { return e.kubeconfig }

// stopAndReport stops p at the end of t. A process that died during the test
// fails it (the test's results came from a broken server); when the test
// failed anyway, the last tailLines of p's log are logged, read before the
// stop adds its own lines: a server-side cause is often only there.
func stopAndReport(t testing.TB, p *process, tailLines int) {
	died, err := p.exited()
	var tail string
	if t.Failed() && tailLines > 0 {
		tail = p.tail(tailLines)
	}
	p.stop(stopGrace)
	switch {
	case died:
		t.Errorf("testenv: during the test, %v", p.exitError(err))
	case tail != "":
		t.Logf("testenv: %s", tail)
	}
}

// startEtcd starts a single-member etcd on free loopback ports with its data
// in dir and returns it with its client URL once it reports healthy.
func startEtcd(ctx context.Context, bin, dir string) (*process, string, error) {
	dataDir := filepath.Join(dir, "etcd-data")
	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(2)
		if err != nil {
			return nil, "", err
		}
		clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
		peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, "", fmt.Errorf("start etcd: %w", err)
		}
		p, err := startProcess("etcd", filepath.Join(bin, "etcd"), filepath.Join(dir, "etcd.log"), "", []string{
			"--name=testenv",
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testenv=" + peerURL,
			// Throwaway data: durability only costs time.
			"--unsafe-no-fsync",
			// Its info lines would bury the cause in a failure message.
			"--log-level=warn",
		}, nil)
		if err != nil {
			return nil, "", err
		}
		client := &http.Client{Timeout: 2 * time.Second}
		err = waitReady(ctx, p, func(ctx context.Context) error {
			return get(ctx, client, clientURL+"/health", "")
		})
		if err == nil {
			return p, clientURL, nil
		}
		p.stop(stopGrace)
		if attempt < startAttempts && p.portInUse() {
			continue
		}
		return nil, "", err
	}
}

// startAPIServer starts kube-apiserver against etcdURL on a free loopback
// port and waits for /readyz; on success e holds its address and CA.
func (e *Env) startAPIServer(ctx context.Context, bin, dir, etcdURL string) (*process, error) {
	saKey := filepath.Join(dir, "service-account.key")
	if err := writeRSAKey(saKey); err != nil {
		return nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, fmt.Appendf(nil, "%s,%s,%s,\"system:masters\"\n", e.token, adminUser, adminUser), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", tokens, err)
	}
	certDir := filepath.Join(dir, "certs")
	// Readiness is probed without verifying the certificate: the server
	// writes it (and its CA) into certDir only as it starts. It is our own
	// child on loopback; RESTConfig verifies the certificate.
	probe := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer probe.CloseIdleConnections()

	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(1)
		if err != nil {
			return nil, err
		}
		host := "https://127.0.0.1:" + strconv.Itoa(ports[0])
		if err := os.RemoveAll(certDir); err != nil {
			return nil, fmt.Errorf("start kube-apiserver: %w", err)
		}
		p, err := startProcess("kube-apiserver", filepath.Join(bin, "kube-apiserver"), filepath.Join(dir, "kube-apiserver.log"), "", []string{
			"--etcd-servers=" + etcdURL,
			"--cert-dir=" + certDir,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(ports[0]),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + saKey,
			"--service-account-signing-key-file=" + saKey,
			"--token-auth-file=" + tokens,
			"--authorization-mode=RBAC",
			"--service-cluster-ip-range=" + serviceCIDR,
			// No Endpoints for the kubernetes Service: a loopback address
			// is not a valid endpoint and the reconciler would only log errors.
			"--endpoint-reconciler-type=none",
			// Like AKS: privileged containers (Falco, node agents) are allowed,
			// so a pod template is judged as a real cluster judges it.
			"--allow-privileged=true",
			// No controller-manager creates the default ServiceAccounts this
			// plugin requires of every Pod; envtest disables it for the same reason.
			"--disable-admission-plugins=ServiceAccount",
			// Webhook Services are reached at their endpoints' addresses,
			// not their cluster IPs (no kube-proxy routes those) or DNS
			// names (no cluster DNS): see HostIP.
			"--enable-aggregator-routing=true",
		}, nil)
		if err != nil {
			return nil, err
		}
		err = waitReady(ctx, p, func(ctx context.Context) error {
			return get(ctx, probe, host+"/readyz", e.token)
		})
		if err == nil {
			ca, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
			if err != nil {
				p.stop(stopGrace)
				return nil, fmt.Errorf("kube-apiserver ready but its certificate is not: %w", err)
			}
			e.host, e.caData = host, ca
			return p, nil
		}
		p.stop(stopGrace)
		if attempt < startAttempts && p.portInUse() {
			continue
		}
		return nil, err
	}
}

// waitReady polls probe until it succeeds, p exits or readyTimeout passes.
func waitReady(ctx context.Context, p *process, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	last := errors.New("not probed yet")
	for {
		if ok, err := p.exited(); ok {
			return p.exitError(err)
		}
		if err := probe(ctx); err == nil {
			return nil
		} else if ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last probe: %w)\n%s", p.name, time.Since(start).Round(time.Second), last, p.tail(logTail))
		case <-tick.C:
		}
	}
}

// get succeeds when url answers 200.
func get(ctx context.Context, client *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// HostIP is an IPv4 address of this machine other than loopback, for a
// process the API server must reach through a Service's endpoints (an
// endpoint may not be a loopback address).
func HostIP() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("this machine has no IPv4 address other than loopback: the API server cannot reach a webhook Service's endpoint")
}

// FreePorts returns n distinct loopback ports that were free a moment ago.
// All listeners stay open until all are picked, so the ports differ.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeRSAKey writes a new RSA private key (PEM) that the apiserver signs and
// verifies service account tokens with.
func writeRSAKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service account key: %w", err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeKubeconfig writes e's kubeconfig file.
func (e *Env) writeKubeconfig() error {
	const name = "testenv"
	cfg := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{name: {Server: e.host, CertificateAuthorityData: e.caData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{adminUser: {Token: e.token}},
		Contexts:       map[string]*clientcmdapi.Context{name: {Cluster: name, AuthInfo: adminUser}},
		CurrentContext: name,
	}
	if err := clientcmd.WriteToFile(cfg, e.kubeconfig); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", e.kubeconfig, err)
	}
	return nil
}
