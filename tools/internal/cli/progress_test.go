package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgress: on a terminal (forced here) and past half a second, set
// writes a self-overwriting line and done clears it; anywhere else nothing
// is written.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, start: time.Now().Add(-time.Second)}
	p.set("rendering clusters/staging")
	p.done()
	out := buf.String()
	if !strings.HasPrefix(out, "\r\033[Krendering clusters/staging… ") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("terminal: %q", out)
	}

	buf.Reset()
	p = newProgress(&buf)
	p.set("rendering clusters/staging")
	p.update(1, 2)
	p.done()
	if buf.Len() != 0 {
		t.Errorf("not a terminal, yet written: %q", buf.String())
	}
}
