package object

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Digest identifies an object's content, for results kept by content
// (its YAML, its validation): the SHA-256 of its JSON, whose map keys are
// sorted. Writing JSON is an order of magnitude cheaper than writing YAML
// or validating.
func Digest(obj map[string]any) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// LargerThan reports whether obj's JSON is longer than about n bytes,
// without writing it: keys and strings count their length, other values a
// few bytes each, and the walk stops once n is passed. A cheap test before
// Digest, for results worth keeping only for large objects.
func LargerThan(obj map[string]any, n int) bool {
	left := n
	var over func(v any) bool
	over = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if left -= len(k) + 4; left < 0 || over(e) {
					return true
				}
			}
		case []any:
			for _, e := range t {
				if left--; left < 0 || over(e) {
					return true
				}
			}
		case string:
			left -= len(t) + 2
		default:
			left -= 4
		}
		return left < 0
	}
	return over(obj)
}
