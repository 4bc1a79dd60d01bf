package diff

import (
	"fmt"
	"strings"

	"github.com/aks-gitops/platform/tools/internal/report/md"
)

// markdownBlocks renders the report as a sequence of blocks, each at most
// blockLimit bytes (0: no limit): the summary, then one collapsible
// <details> per object, an object too big for one block continuing in
// further <details> blocks. Splitting between blocks keeps every part of a
// long report valid Markdown.
func (r *Report) markdownBlocks(wo WriteOptions, blockLimit int) []string {
	var blocks []string
	var b strings.Builder
	title := r.Title
	if title == "" {
		title = "diff"
	}
	if r.Failure != "" {
		ls := []string{r.Failure}
		f := md.Fence(ls)
		fmt.Fprintf(&b, "### `%s`: no diff, a render failed\n\n%s\n%s\n%s\n", title, f, clip(r.Failure), f)
		return []string{b.String()}
	}
	fmt.Fprintf(&b, "### `%s`: %s\n\n", title, r.summaryLine())
	a, rm, ch, d := r.Counts()
	if a+rm+ch > 0 {
		fmt.Fprintf(&b, "| danger notes | added | removed | changed |\n|---:|---:|---:|---:|\n| %d | %d | %d | %d |\n\n", d, a, rm, ch)
	}
	blocks = append(blocks, b.String())
	// Notes first, danger before warnings.
	for _, level := range []Level{Danger, Warning} {
		var nb strings.Builder
		for _, c := range r.Changes {
			for _, n := range c.Notes {
				if n.Level != level {
					continue
				}
				icon := ":warning:"
				if level == Danger {
					icon = ":rotating_light:"
				}
				item := fmt.Sprintf("- %s **%s** `%s` %s: %s\n", icon, level, c.ID.Qualified(), n.Rule, md.Text(n.Message))
				if blockLimit > 0 && nb.Len()+len(item) > blockLimit {
					blocks = append(blocks, nb.String())
					nb.Reset()
				}
				nb.WriteString(item)
			}
		}
		if nb.Len() > 0 {
			nb.WriteString("\n")
			blocks = append(blocks, nb.String())
		}
	}
	for _, c := range r.Changes {
		blocks = append(blocks, objectBlocks(c, wo, blockLimit)...)
	}
	return blocks
}

// objectBlocks renders one change as <details> blocks of at most limit
// bytes each (0: one block).
func objectBlocks(c Change, wo WriteOptions, limit int) []string {
	var ls []string
	for _, l := range objectLines(c, false, wo) {
		op := l.op
		if op == '~' || op == 0 {
			op = ' '
		}
		ls = append(ls, string(op)+" "+strings.Repeat("  ", l.indent)+l.text)
	}
	f := md.Fence(ls)
	summary := fmt.Sprintf("<code>%s %s</code> %s", actionSign[c.Action], md.Text(c.ID.Qualified()), c.Action)
	if c.Danger() {
		summary = ":rotating_light: " + summary
	}
	if o := c.Origin.String(); o != "" {
		summary += " — " + md.Text(o)
	}
	open := func(cont bool) string {
		s := summary
		if cont {
			s += " (continued)"
		}
		return fmt.Sprintf("<details><summary>%s</summary>\n\n%sdiff\n", s, f)
	}
	closing := f + "\n</details>\n\n"
	var blocks []string
	var b strings.Builder
	b.WriteString(open(false))
	body := 0
	for _, l := range ls {
		l += "\n"
		if limit > 0 && body > 0 && b.Len()+len(l)+len(closing) > limit {
			b.WriteString(closing)
			blocks = append(blocks, b.String())
			b.Reset()
			b.WriteString(open(true))
			body = 0
		}
		b.WriteString(l)
		body++
	}
	b.WriteString(closing)
	return append(blocks, b.String())
}

// MarkdownParts renders the Markdown report as parts of at most limit
// bytes each (0: md.CommentLimit), leaving room in each for its header
// (MarkdownPartHeader). Parts break only between blocks (the summary, the
// notes, one <details> per object; an object too long for one part goes on
// in "(continued)" blocks), so each part is valid Markdown on its own, and
// at the default limit the parts concatenate to exactly what Write writes as
// "markdown". The headers are not part of what concatenates.
func (r *Report) MarkdownParts(limit int, wo WriteOptions) []string {
	if limit <= 0 {
		limit = md.CommentLimit
	}
	room := limit - md.HeaderReserve
	blocks := r.markdownBlocks(wo, room)
	var parts []string
	var b strings.Builder
	for _, bl := range blocks {
		if b.Len() > 0 && b.Len()+len(bl) > room {
			parts = append(parts, b.String())
			b.Reset()
		}
		b.WriteString(bl)
	}
	return append(parts, b.String())
}

// MarkdownPartMarker is the hidden HTML comment that names one part of one
// report, so a pull-request comment can be found and updated in place.
func MarkdownPartMarker(title string, i int) string {
	return fmt.Sprintf("<!-- tools-diff:%s:part-%d -->", title, i)
}

// MarkdownPartHeader heads part i of n (from 1): the marker and, for a
// report in more than one part, "part i/n".
func MarkdownPartHeader(title string, i, n int) string {
	h := MarkdownPartMarker(title, i) + "\n"
	if n > 1 {
		h += fmt.Sprintf("**part %d/%d**\n\n", i, n)
	}
	return h
}
