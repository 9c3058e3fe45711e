package personalize

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Offer is one offer of a decision: a JSON object whose fields are kept as sent. Well-known
// fields are read without regard to key case and with their common spellings.
//
// An offer of a flow's answer keeps its object's JSON (a substring of the answer), its
// members (keys and where their values are, found when the offers are read) and its
// well-known fields; its other fields are decoded when asked for (Get, Text, Fields). No map
// is built for it.
type Offer struct {
	fields map[string]any // an offer made in code (NewOffer)
	raw    string         // an offer of an answer: its JSON object
	// members are raw's members, sorted by key, each key once (see objectMembers), their
	// values' places relative to raw. The offers of an answer share one array of them.
	members []member
	known   [knownCount]string
}

// Indexes of the well-known fields.
const (
	knownTracking = iota
	knownName
	knownImage
	knownDesc
	knownLink
	knownCount
)

// Well-known keys, lower-cased, in order of preference.
var knownKeys = [knownCount][]string{
	knownTracking: {"trackingurl", "tracking_url", "trackingurlfortesting"},
	knownName:     {"name", "title", "offername"},
	knownImage:    {"imageurl", "image", "imageurlfortesting", "image_url", "imagesrc"},
	knownDesc:     {"description", "desc", "text", "body"},
	knownLink:     {"url", "link", "href", "destination", "destinationurl"},
}

// NewOffer makes an offer of the given fields (for tests and for offers built in code).
func NewOffer(fields map[string]any) Offer {
	o := Offer{fields: fields}
	var f knownFinder
	for k, v := range fields {
		if slot, ok := knownSlot(k); ok {
			f.add(slot, k, scalarString(v))
		}
	}
	o.known = f.known
	return o
}

// knownSlots maps a lower-cased well-known key to its field and preference rank (1 best).
var knownSlots = func() map[string][2]int {
	m := make(map[string][2]int)
	for i, keys := range knownKeys {
		for r, k := range keys {
			m[k] = [2]int{i, r + 1}
		}
	}
	return m
}()

// maxKnownKey is the length of the longest well-known key: longer keys are never looked up.
const maxKnownKey = len("trackingurlfortesting")

// knownSlot returns the field and rank of a well-known key, whatever its case.
func knownSlot(k string) (slot [2]int, ok bool) {
	if len(k) > maxKnownKey {
		return slot, false
	}
	var lower [maxKnownKey]byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	slot, ok = knownSlots[string(lower[:len(k)])]
	return slot, ok
}

// knownFinder picks an offer's well-known fields from its members (each key once, in any
// order): the best-ranked key with a value that has a string form; keys differing only in
// case tie, and the smaller one wins so the choice is stable.
type knownFinder struct {
	known  [knownCount]string
	rank   [knownCount]int // 0: not found yet; else the rank of the key found
	chosen [knownCount]string
}

func (f *knownFinder) add(slot [2]int, k, s string) {
	if s == "" {
		return
	}
	i, r := slot[0], slot[1]
	if f.rank[i] == 0 || r < f.rank[i] || (r == f.rank[i] && k < f.chosen[i]) {
		f.rank[i], f.chosen[i], f.known[i] = r, k, s
	}
}

// TrackingURL is the offer's tracking link (trackingUrl).
func (o Offer) TrackingURL() string { return o.known[knownTracking] }

// Name is the offer's name (name, Name, title).
func (o Offer) Name() string { return o.known[knownName] }

// ImageURL is the offer's image (imageUrl, image, imageURLForTesting).
func (o Offer) ImageURL() string { return o.known[knownImage] }

// Description is the offer's text (description, text).
func (o Offer) Description() string { return o.known[knownDesc] }

// URL is the offer's own destination (url, link), for offers without a tracking link.
func (o Offer) URL() string { return o.known[knownLink] }

// Get returns a field by name: the exact key first, then a key equal without regard to case
// (the smallest, in byte order, when several are). Strings stay strings ("false" is not
// false) and numbers are json.Number.
func (o Offer) Get(key string) (any, bool) {
	if o.raw != "" {
		m, ok := o.member(key)
		if !ok {
			return nil, false
		}
		v, _ := parseTree(o.raw[m.start:m.end])
		return v, true
	}
	k, ok := o.fieldKey(key)
	if !ok {
		return nil, false // not fields[""], which an offer may have
	}
	return o.fields[k], true
}

// fieldKey is the key of fields Get reads for key.
func (o Offer) fieldKey(key string) (string, bool) {
	if _, ok := o.fields[key]; ok {
		return key, true
	}
	found := ""
	for k := range o.fields {
		if strings.EqualFold(k, key) && (found == "" || k < found) {
			found = k
		}
	}
	return found, found != ""
}

// member is the member of an offer of an answer Get reads for key: the exact key, else the
// smallest equal without regard to case (its members are sorted by key, a key that came
// again holding its last value, as encoding/json decodes it).
func (o Offer) member(key string) (member, bool) {
	ms := o.members
	if i, ok := slices.BinarySearchFunc(ms, key, func(m member, key string) int { return strings.Compare(m.key, key) }); ok {
		return ms[i], true
	}
	for _, m := range ms {
		if strings.EqualFold(m.key, key) {
			return m, true
		}
	}
	return member{}, false
}

// Text returns a field as text: strings as they are, numbers and booleans in their JSON form,
// anything else "".
func (o Offer) Text(key string) string {
	if o.raw != "" {
		m, ok := o.member(key)
		if !ok {
			return ""
		}
		p := treeParser{data: o.raw, skip: true}
		return scalarOf(&p, m)
	}
	v, _ := o.Get(key)
	return scalarString(v)
}

// Fields returns a copy of the offer's fields.
func (o Offer) Fields() map[string]any {
	if o.raw != "" {
		m, _ := parseTree(o.raw)
		fields, _ := m.(map[string]any)
		return fields
	}
	return maps.Clone(o.fields)
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// containerKeys are the keys under which an object holds its offers, in order of preference.
var containerKeys = [...]string{"offers", "decisions", "items", "results", "data"}

// offersIn finds the offers in a checked answer. It understands the common shapes: a
// top-level array of offer objects (as in Sitecore's documentation), an object holding such
// an array (under any key, e.g. "offers" or "decisions"), and a single offer object. Anything
// else (scalars, arrays of scalars, Sitecore's error object) has no offers. It decodes only
// the offers' well-known fields, most often without an allocation: they are substrings of
// the answer. It keeps the offers' members, all in one array, for Get and Text to find a
// field without reading the offer again.
func offersIn(a answer) []Offer {
	if !a.checked || a.empty || a.errorObject {
		return nil
	}
	var buf [16]member // on the stack: most objects have fewer members
	s := &offerScanner{p: treeParser{data: a.body, skip: true}}
	s.p.skipSpace()
	switch a.body[s.p.i] {
	case '[':
		return s.array(s.p.i, buf[:0])
	case '{':
		start := s.p.i
		top := objectMembers(&s.p, buf[:0])
		end := s.p.i
		scratch := top[len(top):] // the offers' own members go after
		// An object holding an array of offers: the well-known keys first, then any array of
		// objects, in key order.
		for _, k := range containerKeys {
			for _, m := range top {
				if strings.EqualFold(m.key, k) && a.body[m.start] == '[' {
					if offers := s.array(m.start, scratch); len(offers) > 0 {
						return offers
					}
				}
			}
		}
		for _, m := range top {
			if a.body[m.start] == '[' {
				if offers := s.array(m.start, scratch); len(offers) > 0 {
					return offers
				}
			}
		}
		if len(top) > 0 {
			return []Offer{s.offer(start, end, slices.Clone(top))}
		}
	}
	return nil
}

// offerScanner reads offers out of a checked answer.
type offerScanner struct {
	p treeParser
}

// array returns the offers of the array at i: its elements that are objects with members,
// at most maxOffers. It reads each object's members into scratch (not kept: the offers'
// members are copied to one array of their own).
func (s *offerScanner) array(i int, scratch []member) []Offer {
	d := s.p.data
	s.p.i, s.p.decoded = i+1, 0 // the answer is within the bound: the count is not needed
	var offers []Offer
	var all []member // the offers' members, one offer after the other
	for c := s.p.next(); c != ']' && c != 0; c = s.p.next() {
		start := s.p.i
		if d[start] == '{' {
			scratch = objectMembers(&s.p, scratch[:0])
			if n := len(scratch); n > 0 {
				if len(offers) == maxOffers {
					break
				}
				if offers == nil {
					// Every offer left opens a brace: enough, and never more than maxOffers.
					est := min(maxOffers, cmp.Or(strings.Count(d[start:], "{"), 1))
					offers = make([]Offer, 0, est)
					// Room for the members of all, if they have as many as the first.
					all = make([]member, 0, n*est)
				}
				first := len(all)
				all = append(all, scratch...)
				offers = append(offers, s.offer(start, s.p.i, all[first:]))
			}
		} else if _, err := s.p.parseValue(); err != nil {
			break // not so for a checked answer
		}
		if s.p.next() == ',' {
			s.p.i++
		}
	}
	// Their members, in the array all last grew to.
	for i := range offers {
		n := len(offers[i].members)
		offers[i].members, all = all[:n:n], all[n:]
	}
	return offers
}

// offer makes the offer of the object at [start, end) with the given members (of data), which
// it keeps, their places made relative to the object.
func (s *offerScanner) offer(start, end int, members []member) Offer {
	var f knownFinder
	for i, m := range members {
		if slot, ok := knownSlot(m.key); ok {
			f.add(slot, m.key, scalarOf(&s.p, m))
		}
		members[i].start, members[i].end = m.start-start, m.end-start
	}
	return Offer{raw: s.p.data[start:end], members: members, known: f.known}
}

// scalarOf is the value of a member of the object p reads as scalarString gives it: a
// string's text (a substring of the object unless it holds escapes), a number's JSON text,
// "true" or "false", else "".
func scalarOf(p *treeParser, m member) string {
	d := p.data
	switch c := d[m.start]; {
	case m.plain:
		return d[m.start+1 : m.end-1]
	case c == '"':
		i := p.i
		p.i = m.start
		_ = p.readString()
		p.i = i
		return p.lastString()
	case c == 't':
		return "true"
	case c == 'f':
		return "false"
	case c == '-' || ('0' <= c && c <= '9'):
		return d[m.start:m.end]
	}
	return ""
}

// maxOffers is how many offers a result holds at the most; an answer's further offers are
// left out (a decision shows a handful, and each offer costs memory and rendering).
const maxOffers = 100

// isErrorObject reports whether a decoded object is Sitecore's error object: a status of 400 or
// more and a message, code or developerMessage.
func isErrorObject(m map[string]any) bool {
	st, ok := m["status"]
	if !ok {
		return false
	}
	if statusNumber(st) < 400 {
		return false
	}
	for _, k := range []string{"message", "code", "developerMessage"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func statusNumber(v any) int {
	switch v := v.(type) {
	case json.Number:
		return statusDigits(v.String())
	case float64:
		return int(v)
	case string:
		return statusDigits(v)
	}
	return 0
}

// statusDigits is the value of a status made of decimal digits only, else 0.
func statusDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 1000 {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}
