package object

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"slices"
)

// Digest identifies an object's content, for results kept by content
// (its YAML, its validation): the SHA-256 of a walk of it that writes
// each value with its type, map keys sorted. Two objects with one digest
// hold the same values of the same types, so anything made from one
// serves the other; it tells apart more than JSON would (an int64 from the
// float64 of the same number), which costs at most a miss. Hashing the
// walk costs a fraction of writing JSON, which allocated most of a warm
// render's keeping.
func Digest(obj map[string]any) (string, error) {
	d := digester{h: sha256.New()}
	if err := d.value(obj); err != nil {
		return "", err
	}
	d.flush()
	return hex.EncodeToString(d.h.Sum(nil)), nil
}

// digester buffers a walk's bytes for the hash.
type digester struct {
	h   hash.Hash
	buf []byte
}

func (d *digester) flush() {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
}

func (d *digester) str(tag byte, s string) {
	d.buf = append(d.buf, tag)
	d.buf = binary.AppendUvarint(d.buf, uint64(len(s)))
	d.buf = append(d.buf, s...)
	if len(d.buf) > 4<<10 {
		d.flush()
	}
}

func (d *digester) value(v any) error {
	switch t := v.(type) {
	case nil:
		d.buf = append(d.buf, 'n')
	case bool:
		b := byte('0')
		if t {
			b = '1'
		}
		d.buf = append(d.buf, 'b', b)
	case string:
		d.str('s', t)
	case int64:
		d.buf = binary.BigEndian.AppendUint64(append(d.buf, 'i'), uint64(t))
	case float64:
		d.buf = binary.BigEndian.AppendUint64(append(d.buf, 'f'), math.Float64bits(t))
	case map[string]any:
		d.buf = binary.AppendUvarint(append(d.buf, 'm'), uint64(len(t)))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			d.str('k', k)
			if err := d.value(t[k]); err != nil {
				return err
			}
		}
	case []any:
		d.buf = binary.AppendUvarint(append(d.buf, 'l'), uint64(len(t)))
		for _, e := range t {
			if err := d.value(e); err != nil {
				return err
			}
		}
	default:
		// Not what decoding JSON makes (an int, a []string set by code):
		// its JSON, tagged apart from the types above.
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		d.str('j', fmt.Sprintf("%T\x00%s", t, data))
	}
	return nil
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
