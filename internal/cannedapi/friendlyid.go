package cannedapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

var friendlyIDKey = []byte("friendlyId")

// FriendlyID returns the friendlyId of a callFlows body: the string value of the top-level
// member "friendlyId" of a JSON object (the last one, when there are several, as
// encoding/json reads it). ok is false when body is not an object or its friendlyId is
// missing or not a string. For a valid JSON object it answers what encoding/json does
// (FuzzFriendlyID checks it); for anything else it may answer or refuse, and never panics.
//
// It reads the object in one pass without building anything, so that an API answering in
// memory costs its caller next to nothing.
func FriendlyID(body []byte) (id string, ok bool) {
	b, ok := friendlyID(body)
	return string(b), ok
}

// friendlyID is FriendlyID's value as bytes: a part of body unless it had to be decoded.
func friendlyID(body []byte) (id []byte, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return nil, false
	}
	for i < len(body) {
		ks, ke, kesc, next := scanString(body, i)
		if next < 0 {
			return nil, false
		}
		i = skipSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return nil, false
		}
		i = skipSpace(body, i+1)
		if i >= len(body) {
			return nil, false
		}
		if isFriendlyIDKey(body, ks, ke, kesc) {
			if body[i] != '"' {
				id, ok = nil, false
				if i = skipValue(body, i); i < 0 {
					return nil, false
				}
			} else {
				vs, ve, vesc, next := scanString(body, i)
				if next < 0 {
					return nil, false
				}
				id, ok = stringValue(body, vs, ve, vesc)
				i = next
			}
		} else if i = skipValue(body, i); i < 0 {
			return nil, false
		}
		i = skipSpace(body, i)
		switch {
		case i >= len(body):
			return nil, false
		case body[i] == ',':
			i = skipSpace(body, i+1)
		case body[i] == '}':
			if skipSpace(body, i+1) != len(body) {
				return nil, false // more than one value
			}
			return id, ok
		default:
			return nil, false
		}
	}
	return nil, false
}

// isFriendlyIDKey reports whether the key body[ks:ke] (without its quotes) is "friendlyId".
func isFriendlyIDKey(body []byte, ks, ke int, escaped bool) bool {
	if !escaped {
		return bytes.Equal(body[ks:ke], friendlyIDKey)
	}
	s, ok := stringValue(body, ks, ke, true)
	return ok && bytes.Equal(s, friendlyIDKey)
}

// stringValue is the string body[s:e] (without its quotes): as it is when it has no escape
// and is valid UTF-8, else as encoding/json decodes it.
func stringValue(body []byte, s, e int, escaped bool) ([]byte, bool) {
	raw := body[s:e]
	if !escaped && utf8.Valid(raw) {
		return raw, true
	}
	var v string
	if json.Unmarshal(body[s-1:e+1], &v) != nil {
		return nil, false
	}
	return []byte(v), true
}

// scanString reads the string starting at body[i] ('"'): its content is body[s:e], escaped
// says whether it holds a backslash, and next is the index after its closing quote (-1 when
// body[i] does not start a string or it does not end).
func scanString(body []byte, i int) (s, e int, escaped bool, next int) {
	if i >= len(body) || body[i] != '"' {
		return 0, 0, false, -1
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '\\':
			escaped = true
			j++ // the escaped byte
		case c == '"':
			return i + 1, j, escaped, j + 1
		case c < 0x20:
			return 0, 0, false, -1 // a control character ends no JSON string
		}
	}
	return 0, 0, false, -1
}

// skipValue skips the value starting at body[i] and returns the index after it (-1 when it
// is cut short). Objects and arrays are skipped by their brackets, minding strings.
func skipValue(body []byte, i int) int {
	switch body[i] {
	case '"':
		_, _, _, next := scanString(body, i)
		return next
	case '{', '[':
		depth := 0
		for i < len(body) {
			switch body[i] {
			case '"':
				_, _, _, next := scanString(body, i)
				if next < 0 {
					return -1
				}
				i = next
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(body) { // a number, true, false or null
		switch body[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
