// Package browsertest opens pages in a real headless Chromium for tests,
// driven over the DevTools protocol (chromedp): what the page logs, throws
// and requests is recorded, so a test can assert a page loads offline and
// cleanly, query its DOM, click and take screenshots.
//
// The browser is Debian's chromium (scripts/install-tools.sh installs it;
// $CHROMIUM names another); a missing browser fails the test with the
// command that installs it, as a missing kube-apiserver does.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium returns the browser to run: $CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome on PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on PATH (set CHROMIUM, or run `make tools`: it installs Debian's chromium)")
	return ""
}

// Page is one page open in its own browser.
type Page struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
	requests []string
}

// Open starts a headless Chromium with an empty profile and no network
// services of its own, and loads url in it, waiting for the load event.
// The browser is stopped when the test ends.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium(t)),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// Without these the browser reaches out to Google's services at
		// start; on a closed network each try is a refused connection.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		// No sandbox: Chromium refuses its sandbox as root, and CI runners
		// that restrict unprivileged user namespaces break it otherwise;
		// the pages opened here are the tests' own local files.
		chromedp.NoSandbox,
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	p := &Page{}
	// The listener is there from the tab's start: nothing the page does
	// while loading is missed.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(p.record))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	p.ctx = ctx
	// The first run starts the browser, for as long as ctx lives: no
	// timeout on it (chromedp.Run); the load gets one of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	load, done := context.WithTimeout(ctx, time.Minute)
	defer done()
	if err := chromedp.Do(load, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("load %s in Chromium: %v", url, err)
	}
	return p
}

// record keeps what the page reports: console errors and warnings,
// exceptions, browser log entries at warning or worse (a refused request,
// a Content-Security-Policy violation), and every request.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %v", ev.Type, args))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p.problems = append(p.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, d.Text))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			p.problems = append(p.problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, ev.Request.URL)
	}
}

// Problems are the console errors and warnings, exceptions and browser
// log errors and warnings the page caused so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.problems)
}

// Requests are the URLs the page requested so far, the page itself first.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Eval evaluates a JavaScript expression in the page into a T (DevTools
// evaluation: the page's own Content-Security-Policy does not apply).
func Eval[T any](t testing.TB, p *Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Click clicks the first visible element matching a CSS selector, as a
// person would (a mouse event at its centre).
func (p *Page) Click(t testing.TB, selector string) {
	t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// Screenshot writes a PNG of the whole page to file and returns its bytes.
func (p *Page) Screenshot(t testing.TB, file string) []byte {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return png
}
