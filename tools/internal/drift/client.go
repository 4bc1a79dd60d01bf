package drift

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// LoadConfig reads a kubeconfig the way kubectl does: the file given (""
// means $KUBECONFIG, else ~/.kube/config) and the context given ("" means
// its current context).
func LoadConfig(kubeconfig, kubeContext string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		where := kubeconfig
		if where == "" {
			where = "the default kubeconfig"
		}
		if kubeContext != "" {
			return nil, fmt.Errorf("kubeconfig %s, context %s: %w", where, kubeContext, err)
		}
		return nil, fmt.Errorf("kubeconfig %s: %w", where, err)
	}
	return cfg, nil
}

// clients are what Check talks to the API server with.
type clients struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	// backoff paces retries of throttled or timed-out requests.
	backoff wait.Backoff
}

func newClients(cfg *rest.Config, opts Options) (*clients, error) {
	cfg = rest.CopyConfig(cfg)
	// client-go's defaults (5 QPS, burst 10) would serialise thousands of
	// dry-runs; the worker limit bounds the load and the server's priority
	// and fairness answers 429 when it must, which is retried.
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	if cfg.UserAgent == "" {
		cfg.UserAgent = "aks-gitops-tools/drift"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = opts.RequestTimeout
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("kube client for %s: %w", cfg.Host, err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("kube client for %s: %w", cfg.Host, err)
	}
	return &clients{dyn: dyn, mapper: mapper, backoff: opts.Backoff}, nil
}

// ping fails fast, with one clear error, when the API server cannot be
// reached or refuses the credentials.
func ping(ctx context.Context, cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kube-apiserver %s: %w", cfg.Host, err)
	}
	if _, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		return fmt.Errorf("kube-apiserver %s: %w", cfg.Host, err)
	}
	return nil
}

// retry runs call until it succeeds, fails for a reason retrying cannot
// change, or the backoff is used up. Throttling (429), server timeouts and
// an unavailable server are retried, honouring a Retry-After the server
// sends.
func (c *clients) retry(ctx context.Context, call func(context.Context) error) error {
	b := c.backoff
	for {
		err := call(ctx)
		if err == nil || !retriable(err) || b.Steps <= 1 {
			return err
		}
		d := b.Step()
		if s, ok := apierrors.SuggestsClientDelay(err); ok && time.Duration(s)*time.Second > d {
			d = time.Duration(s) * time.Second
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func retriable(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err)
}
