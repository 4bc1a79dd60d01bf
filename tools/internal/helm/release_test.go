package helm

import (
	"strings"
	"testing"
)

func TestShortenName(t *testing.T) {
	long := strings.Repeat("a", 30) + "-" + strings.Repeat("b", 30)
	tests := []struct {
		name, in, want string
	}{
		{name: "short kept", in: "web", want: "web"},
		{name: "53 kept", in: strings.Repeat("x", 53), want: strings.Repeat("x", 53)},
		// 40 characters, a hyphen, 12 hex digits of sha256(name).
		{name: "long hashed", in: long, want: long[:40] + "-" + "0d5805a5e727"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShortenName(tt.in); got != tt.want {
				t.Errorf("ShortenName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
