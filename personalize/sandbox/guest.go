package sandbox

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// GuestPlaceholderPrefix starts a guest placeholder in a flow's response: "{{guest.firstname}}"
// inside a string value is replaced by the firstname field of the browser's latest IDENTITY
// event (see the package documentation).
const GuestPlaceholderPrefix = "{{guest."

// guestPlaceholderEnd ends a guest placeholder.
const guestPlaceholderEnd = "}}"

// maxGuestName bounds a placeholder's field name, so that a stray "{{guest." in a long text
// is not read as one.
const maxGuestName = 64

// addGuestHoles adds a hole for every string value (not object key) of the response that holds
// a guest placeholder. The template is valid JSON, so strings are found by their quotes.
func (t *template) addGuestHoles() {
	raw := t.raw
	if !bytes.Contains(raw, []byte("guest")) && !bytes.Contains(raw, []byte(`\u`)) {
		return // no placeholder can be written without "guest" (or an escape spelling it)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			if raw[end] == '\\' {
				end++
			}
			end++
		}
		end++ // past the closing quote
		if end > len(raw) {
			return
		}
		next := skipSpace(raw, end)
		isKey := next < len(raw) && raw[next] == ':'
		if !isKey {
			var s string
			if json.Unmarshal(raw[i:end], &s) == nil && hasGuestPlaceholder(s) {
				t.holes = append(t.holes, hole{start: i, end: end, guest: true, text: s})
			}
		}
		i = end - 1
	}
}

// hasGuestPlaceholder reports whether s holds a complete guest placeholder.
func hasGuestPlaceholder(s string) bool {
	found := false
	fillGuest(s, func(string) string { found = true; return "" })
	return found
}

// fillGuest replaces each "{{guest.<name>}}" of s, name made of letters, digits and
// underscores, with value(name). Anything else is kept as written.
func fillGuest(s string, value func(name string) string) string {
	var b strings.Builder
	rest := s
	replaced := false
	for {
		i := strings.Index(rest, GuestPlaceholderPrefix)
		if i < 0 {
			break
		}
		after := rest[i+len(GuestPlaceholderPrefix):]
		j := strings.Index(after, guestPlaceholderEnd)
		if j < 1 || j > maxGuestName || !fieldName(after[:j]) {
			// Not a placeholder: keep the prefix and look further.
			b.WriteString(rest[:i+len(GuestPlaceholderPrefix)])
			rest = after
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(value(after[:j]))
		rest = after[j+len(guestPlaceholderEnd):]
		replaced = true
	}
	if !replaced {
		return s
	}
	b.WriteString(rest)
	return b.String()
}

func fieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// latestIdentity returns the body of the latest IDENTITY event among events (oldest first),
// or nil.
func latestIdentity(events []EventRecord) map[string]any {
	for _, event := range slices.Backward(events) {
		if strings.EqualFold(event.Type, typeIdentity) {
			return event.Body
		}
	}
	return nil
}

// guestValue is a placeholder's value: the identity's field of that name (matched without
// regard to case) when it is a string, number or boolean, else "".
func guestValue(identity map[string]any, name string) string {
	if identity == nil {
		return ""
	}
	return scalarString(lookupFold(identity, name))
}

// encodeString encodes s as a JSON string without HTML escaping: the value is data, and the
// site that shows it escapes it for its own output.
func encodeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline
}
