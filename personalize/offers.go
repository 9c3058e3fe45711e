package personalize

import (
	"encoding/json"
	"maps"
	"strings"

	"github.com/go-personalize/sdk/internal/mapkeys"
)

// Offer is one offer of a decision: a JSON object whose fields are kept as sent. Well-known
// fields are read without regard to key case and with their common spellings.
type Offer struct {
	fields map[string]any
	known  *[knownCount]string // well-known fields, found once when the offer is made
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
func NewOffer(fields map[string]any) Offer { return newOffer(fields) }

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

func newOffer(fields map[string]any) Offer {
	o := Offer{fields: fields, known: new([knownCount]string)}
	var rank [knownCount]int // 0: not found yet; else the rank of the key found
	var chosen [knownCount]string
	var lower [maxKnownKey]byte
	for k, v := range fields {
		if len(k) > maxKnownKey {
			continue
		}
		for i := 0; i < len(k); i++ {
			c := k[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		slot, ok := knownSlots[string(lower[:len(k)])]
		if !ok {
			continue
		}
		s := scalarString(v)
		if s == "" {
			continue
		}
		i, r := slot[0], slot[1]
		// Keys differing only in case tie; the smaller one wins so the choice is stable.
		if rank[i] == 0 || r < rank[i] || (r == rank[i] && k < chosen[i]) {
			rank[i], chosen[i], o.known[i] = r, k, s
		}
	}
	return o
}

func (o Offer) get(i int) string {
	if o.known == nil {
		return ""
	}
	return o.known[i]
}

// TrackingURL is the offer's tracking link (trackingUrl).
func (o Offer) TrackingURL() string { return o.get(knownTracking) }

// Name is the offer's name (name, Name, title).
func (o Offer) Name() string { return o.get(knownName) }

// ImageURL is the offer's image (imageUrl, image, imageURLForTesting).
func (o Offer) ImageURL() string { return o.get(knownImage) }

// Description is the offer's text (description, text).
func (o Offer) Description() string { return o.get(knownDesc) }

// URL is the offer's own destination (url, link), for offers without a tracking link.
func (o Offer) URL() string { return o.get(knownLink) }

// Get returns a field by name: the exact key first, then any key equal without regard to case.
// Strings stay strings ("false" is not false) and numbers are json.Number.
func (o Offer) Get(key string) (any, bool) {
	if v, ok := o.fields[key]; ok {
		return v, true
	}
	for k, v := range o.fields {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Text returns a field as text: strings as they are, numbers and booleans in their JSON form,
// anything else "".
func (o Offer) Text(key string) string {
	v, _ := o.Get(key)
	return scalarString(v)
}

// Fields returns a copy of the offer's fields.
func (o Offer) Fields() map[string]any {
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

// parseOffers finds the offers in a flow's answer. It understands the common shapes: a
// top-level array of offer objects (as in Sitecore's documentation), an object holding such an
// array (under any key, e.g. "offers" or "decisions"), and a single offer object. Anything else
// (junk, scalars, arrays of scalars) has no offers. It never panics.
func parseOffers(raw []byte) []Offer {
	v, err := decodeTree(raw)
	if err != nil {
		return nil
	}
	return offersFromTree(v)
}

// offersFromTree finds the offers in a decoded answer (see parseOffers).
func offersFromTree(v any) []Offer {
	switch v := v.(type) {
	case []any:
		return offersOf(v)
	case map[string]any:
		if isErrorObject(v) {
			return nil
		}
		// An object holding an array of offers: prefer the well-known keys, then any array of
		// objects in key order so the choice is stable.
		for _, k := range []string{"offers", "decisions", "items", "results", "data"} {
			for key, val := range v {
				if strings.EqualFold(key, k) {
					if arr, ok := val.([]any); ok {
						if offers := offersOf(arr); len(offers) > 0 {
							return offers
						}
					}
				}
			}
		}
		for _, k := range mapkeys.Sorted(v) {
			if arr, ok := v[k].([]any); ok {
				if offers := offersOf(arr); len(offers) > 0 {
					return offers
				}
			}
		}
		if len(v) > 0 {
			return []Offer{newOffer(v)}
		}
	}
	return nil
}

func offersOf(arr []any) []Offer {
	var offers []Offer
	for _, el := range arr {
		if m, ok := el.(map[string]any); ok && len(m) > 0 {
			if len(offers) == maxOffers {
				break
			}
			offers = append(offers, newOffer(m))
		}
	}
	return offers
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
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case float64:
		return int(v)
	case string:
		s = v
	default:
		return 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 1000 {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}
