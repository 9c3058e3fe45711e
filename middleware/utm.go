package middleware

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-personalize/sdk/internal/mapkeys"
)

// Limits on the UTM parameters taken from a request.
const (
	// MaxUTMKeys is how many utm_* parameters are kept; later ones are ignored.
	MaxUTMKeys = 20
	// MaxUTMValueBytes caps a value's length; longer values are cut at a character boundary.
	MaxUTMValueBytes = 256
	// maxUTMNameBytes caps a name after its utm_ prefix; longer names are dropped.
	maxUTMNameBytes = 64
)

// parseUTM collects the utm_* parameters of a raw (still escaped) query: names matched without
// regard to case, the prefix stripped and the rest lower-cased; values decoded exactly once
// (so a%2526b becomes a%26b). Malformed escapes, invalid UTF-8, control characters, empty
// values and odd names are dropped; the first of repeated names wins; at most MaxUTMKeys are
// kept. It returns nil, without allocating, when the query has no usable utm_* parameter.
func parseUTM(rawQuery string) map[string]string {
	var m map[string]string
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		if len(rawKey) < len("utm_x") {
			continue
		}
		key := rawKey
		if strings.ContainsAny(rawKey, "%+") {
			k, err := url.QueryUnescape(rawKey)
			if err != nil {
				continue
			}
			key = k
		}
		if len(key) <= len("utm_") || !strings.EqualFold(key[:len("utm_")], "utm_") {
			continue
		}
		name := key[len("utm_"):]
		if !validUTMName(name) {
			continue
		}
		name = strings.ToLower(name)
		if _, dup := m[name]; dup {
			continue
		}
		if len(m) >= MaxUTMKeys {
			break
		}
		value, ok := utmValue(rawValue)
		if !ok {
			continue
		}
		if m == nil {
			m = make(map[string]string, 4)
		}
		m[name] = value
	}
	return m
}

// validUTMName accepts 1 to 64 letters, digits, '_', '-' and '.'.
func validUTMName(s string) bool {
	if s == "" || len(s) > maxUTMNameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// utmValue decodes a raw value once and cleans it; ok is false when it must be dropped.
func utmValue(raw string) (string, bool) {
	v := raw
	if strings.ContainsAny(raw, "%+") {
		var err error
		if v, err = url.QueryUnescape(raw); err != nil {
			return "", false
		}
	}
	if !utf8.ValidString(v) {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	if len(v) > MaxUTMValueBytes {
		n := MaxUTMValueBytes
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	return v, true
}

// encodeUTM writes a UTM set as a query (utm_ prefixes restored, keys sorted), the form kept
// in the session; parseUTM reads it back with the same checks as a request's query.
func encodeUTM(m map[string]string) string {
	var b strings.Builder
	for i, k := range mapkeys.Sorted(m) {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("utm_")
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(m[k]))
	}
	return b.String()
}

// wellKnownUTM are the parameters Google Analytics defined, most telling first.
var wellKnownUTM = [...]string{"campaign", "source", "medium", "term", "content"}

// utmPriority lists a UTM set's keys, the well-known ones first in their order, then the rest
// by name.
func utmPriority(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for _, k := range wellKnownUTM {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range mapkeys.Sorted(m) {
		if !slices.Contains(wellKnownUTM[:], k) {
			keys = append(keys, k)
		}
	}
	return keys
}
