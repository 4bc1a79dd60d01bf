// Package md is the one set of GitHub Markdown rules the tool's writers
// share: escaping text and table cells, code fences, and the size of a
// comment.
package md

import "strings"

// CommentLimit is the most characters a GitHub comment may hold.
const CommentLimit = 65536

// HeaderReserve is room kept in each comment for the header a caller adds
// (a marker, "part i/n").
const HeaderReserve = 512

// Room is what a report may use of one comment.
const Room = CommentLimit - HeaderReserve

var html = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Text keeps text from being read as HTML (quotes stay readable): for list
// items, headings and <code> or <summary> content.
func Text(s string) string { return html.Replace(s) }

var cell = strings.NewReplacer("|", `\|`, "\n", "<br>")

// Cell escapes a table cell: Text, with pipes escaped and line breaks kept
// as <br>.
func Cell(s string) string { return cell.Replace(Text(s)) }

// Fence returns a code fence longer than any run of backticks in lines.
func Fence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
