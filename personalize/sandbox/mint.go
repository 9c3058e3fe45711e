package sandbox

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// TrackerPlaceholder is the trackingUrl value that asks the sandbox to mint a tracking link for
// an offer.
const TrackerPlaceholder = "{tracker}"

// template is a flow response ready for offer minting: the JSON as given and the places
// where tracking links and guest placeholders go, found once when the flow is added.
type template struct {
	raw   []byte
	holes []hole
}

// hole is one offer's tracking link: raw[start:end] (the placeholder string) is replaced by
// the link, or, when insert is set, a trackingUrl member is inserted at start. A guest hole is
// a string value holding guest placeholders: raw[start:end] is replaced by text filled in.
type hole struct {
	start, end  int
	insert      bool
	guest       bool
	text        string // a guest hole's string, decoded
	name        string
	destination string
	offer       []byte // the offer object as given, for the click record
}

func newTemplate(raw []byte) *template {
	t := &template{raw: raw}
	s := skipSpace(raw, 0)
	if s >= len(raw) {
		return t
	}
	e := len(bytes.TrimRight(raw, " \t\r\n"))
	switch raw[s] {
	case '{':
		t.offer(s, e)
		members(raw, s, e, func(_ string, vs, ve int) {
			t.candidates(vs, ve)
		})
	case '[':
		elements(raw, s, e, func(vs, ve int) {
			if raw[vs] == '{' {
				t.offer(vs, ve)
			}
		})
	}
	t.addGuestHoles()
	sort.Slice(t.holes, func(i, j int) bool { return t.holes[i].start < t.holes[j].start })
	return t
}

// candidates looks for offers in a member value of the top-level object: an object, or the
// objects of an array.
func (t *template) candidates(vs, ve int) {
	switch t.raw[vs] {
	case '{':
		t.offer(vs, ve)
	case '[':
		elements(t.raw, vs, ve, func(es, ee int) {
			if t.raw[es] == '{' {
				t.offer(es, ee)
			}
		})
	}
}

// offer adds a hole for the object raw[s:e] when it asks for a tracking link: its trackingUrl
// is the placeholder, or it has no trackingUrl but a destination.
func (t *template) offer(s, e int) {
	var (
		h           = hole{offer: t.raw[s:e]}
		hasTracking bool
		placeholder bool
		hasDest     bool
	)
	members(t.raw, s, e, func(key string, vs, ve int) {
		var str string
		isString := t.raw[vs] == '"' && json.Unmarshal(t.raw[vs:ve], &str) == nil
		switch {
		case strings.EqualFold(key, "trackingUrl"):
			hasTracking = true
			if isString && str == TrackerPlaceholder {
				placeholder = true
				h.start, h.end = vs, ve
			}
		case strings.EqualFold(key, "destination"):
			hasDest = true
			if isString {
				h.destination = str
			}
		case h.name == "" && isString && (strings.EqualFold(key, "name") ||
			strings.EqualFold(key, "offerName") || strings.EqualFold(key, "title")):
			h.name = str
		}
	})
	switch {
	case placeholder:
	case !hasTracking && hasDest:
		h.insert = true
		h.start, h.end = s+1, s+1
	default:
		return
	}
	t.holes = append(t.holes, h)
}

// render writes the response with a tracking link minted by link for each offer's hole and
// the guest placeholders of each guest hole replaced by guest(name).
func (t *template) render(buf *bytes.Buffer, link func(h *hole) string, guest func(name string) string) {
	prev := 0
	for i := range t.holes {
		h := &t.holes[i]
		buf.Write(t.raw[prev:h.start])
		if h.guest {
			encodeString(buf, fillGuest(h.text, guest))
			prev = h.end
			continue
		}
		u, _ := json.Marshal(link(h)) // a string always marshals
		if h.insert {
			buf.WriteString(`"trackingUrl":`)
			buf.Write(u)
			buf.WriteByte(',')
		} else {
			buf.Write(u)
		}
		prev = h.end
	}
	buf.Write(t.raw[prev:])
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// members calls fn with the key and the value's span of each member of the object raw[s:e].
// Spans are offsets into raw. It stops quietly on anything that is not JSON.
func members(raw []byte, s, e int, fn func(key string, vs, ve int)) {
	dec := json.NewDecoder(bytes.NewReader(raw[s:e]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		key, ok := tok.(string)
		if !ok {
			return
		}
		vs, ve, ok := value(dec, raw, s)
		if !ok {
			return
		}
		fn(key, vs, ve)
	}
}

// elements calls fn with the span of each element of the array raw[s:e].
func elements(raw []byte, s, e int, fn func(vs, ve int)) {
	dec := json.NewDecoder(bytes.NewReader(raw[s:e]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return
	}
	for dec.More() {
		vs, ve, ok := value(dec, raw, s)
		if !ok {
			return
		}
		fn(vs, ve)
	}
}

// value decodes the next value of dec (reading raw from base) and returns its span in raw.
func value(dec *json.Decoder, raw []byte, base int) (vs, ve int, ok bool) {
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil || len(v) == 0 {
		return 0, 0, false
	}
	ve = base + int(dec.InputOffset())
	vs = ve - len(v)
	if vs < base || ve > len(raw) || !bytes.Equal(raw[vs:ve], v) {
		return 0, 0, false
	}
	return vs, ve, true
}
