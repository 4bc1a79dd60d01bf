// Package source materialises the Flux sources that are not the checkout
// itself: a GitRepository cloned at its ref with source-controller's Git
// client, an OCIRepository pulled from its registry. Each is fetched once per
// run into the cache directory (reused with --offline) and filtered by
// .sourceignore and spec.ignore as source-controller builds its artifacts.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"

	"github.com/aks-gitops/platform/tools/internal/memo"
)

// ErrOffline is returned for a source that was never fetched, in offline mode.
var ErrOffline = errors.New("not available offline")

// Fetched is a source on disk.
type Fetched struct {
	Dir      string
	Revision string
}

// DefaultTimeout is source-controller's default for cloning a
// GitRepository or pulling an OCIRepository.
const DefaultTimeout = 60 * time.Second

// FetchError is a source whose server could not be reached, did not answer
// in time or answered with an error. Its message is its cause's: the
// Fetcher's errors already name the source and its URL.
type FetchError struct {
	// Source names the Flux source: KIND/NAMESPACE/NAME.
	Source string
	URL    string
	Err    error
}

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// TimeoutError is a fetch that did not complete within its timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("no answer within %s", e.After) }

// Timeout says this is a timeout, like net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// UnsupportedError is a source the tool does not fetch itself (it needs
// credentials, or its kind is not fetched): a local copy must stand in.
type UnsupportedError struct {
	// Source names the Flux source: KIND/NAMESPACE/NAME.
	Source string
	// What describes the source; Reason says why it is not fetched.
	What, Reason string
}

func (e *UnsupportedError) Error() string { return e.What + ": " + e.Reason }

// Fetcher fetches sources, each at most once per run.
type Fetcher struct {
	dir     string
	offline bool
	timeout time.Duration

	runs memo.Map[string, *Fetched]
}

// Option configures a Fetcher.
type Option func(*Fetcher)

// WithTimeout bounds each fetch (a clone, a pull); the default is
// DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(f *Fetcher) {
		if d > 0 {
			f.timeout = d
		}
	}
}

// NewFetcher keeps sources under dir; offline forbids the network.
func NewFetcher(dir string, offline bool, opts ...Option) *Fetcher {
	f := &Fetcher{dir: dir, offline: offline, timeout: DefaultTimeout}
	for _, o := range opts {
		o(f)
	}
	return f
}

// fetch runs one network fetch of source (KIND/NAMESPACE/NAME) at u,
// bounded by the timeout. Its failure is a FetchError, unless ctx itself
// ended (an interrupted run is not the server's fault): then it is ctx's
// cause.
func (f *Fetcher) fetch(ctx context.Context, source, u string, do func(context.Context) error) error {
	timeout := &TimeoutError{After: f.timeout}
	fctx, cancel := context.WithTimeoutCause(ctx, f.timeout, timeout)
	defer cancel()
	err := do(fctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.Is(context.Cause(fctx), timeout):
		err = timeout
	}
	return &FetchError{Source: source, URL: u, Err: err}
}

// once runs fetch for key the first time and returns its result every time.
func (f *Fetcher) once(key string, fetch func() (*Fetched, error)) (*Fetched, error) {
	fetched, _, err := f.runs.Do(key, fetch)
	return fetched, err
}

// slot is the cache directory of one source at one ref.
func (f *Fetcher) slot(kind string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return filepath.Join(f.dir, kind, hex.EncodeToString(sum[:10]))
}

// fetchInto runs fill on a fresh directory and moves the result into slot,
// or reuses what slot holds when offline.
func (f *Fetcher) fetchInto(slot, what string, fill func(dir string) (revision string, err error)) (*Fetched, error) {
	dir := filepath.Join(slot, "tree")
	revFile := filepath.Join(slot, "revision")
	if f.offline {
		rev, err := os.ReadFile(revFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (never fetched into the cache)", what, ErrOffline)
		}
		return &Fetched{Dir: dir, Revision: string(rev)}, nil
	}
	if err := os.MkdirAll(slot, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(slot, ".fetch-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rev, err := fill(tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(revFile, []byte(rev), 0o644); err != nil {
		return nil, err
	}
	return &Fetched{Dir: dir, Revision: rev}, nil
}

// Filter removes from dir what source-controller leaves out of an artifact:
// VCS files always, spec.ignore (when set) or else the default exclusions,
// and the patterns of every .sourceignore file in the tree.
func Filter(dir string, ignore *string) error {
	domain := strings.Split(filepath.Clean(dir), string(filepath.Separator))
	ps := sourceignore.VCSPatterns(domain)
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), domain)...)
	} else {
		ps = append(ps, sourceignore.DefaultPatterns(domain)...)
	}
	found, err := sourceignore.LoadIgnorePatterns(dir, domain)
	if err != nil {
		return fmt.Errorf("%s: %w", sourceignore.IgnoreFile, err)
	}
	matcher := gitignore.NewMatcher(append(ps, found...))
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		if matcher.Match(strings.Split(p, string(filepath.Separator)), d.IsDir()) {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
}
