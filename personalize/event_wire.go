package personalize

import (
	"cmp"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-personalize/sdk/internal/mapkeys"
)

// eventBody is the wire format of POST /v1.2/events: the flat event object with the base
// fields every event carries, then the fields of IDENTITY events. UTM keys and Data are
// appended as further top-level fields.
type eventBody struct {
	Type        string           `json:"type"`
	BrowserID   string           `json:"browser_id"`
	ClientKey   string           `json:"client_key"`
	Channel     string           `json:"channel"`
	Language    string           `json:"language"`
	Currency    string           `json:"currency"`
	Page        string           `json:"page"`
	PointOfSale string           `json:"pos"`
	RequestedAt string           `json:"requested_at"`
	Referrer    string           `json:"referrer,omitempty"`
	Identifiers []identifierBody `json:"identifiers,omitempty"`
	Email       string           `json:"email,omitempty"`
	FirstName   string           `json:"firstname,omitempty"`
	LastName    string           `json:"lastname,omitempty"`
	Title       string           `json:"title,omitempty"`
	Gender      string           `json:"gender,omitempty"`
	DOB         string           `json:"dob,omitempty"`
	Mobile      string           `json:"mobile,omitempty"`
	Phone       string           `json:"phone,omitempty"`
	Street      []string         `json:"street,omitempty"`
	City        string           `json:"city,omitempty"`
	State       string           `json:"state,omitempty"`
	Country     string           `json:"country,omitempty"`
	PostalCode  string           `json:"postal_code,omitempty"`
	Ext         map[string]any   `json:"ext,omitempty"`
}

type identifierBody struct {
	ID         string `json:"id"`
	Provider   string `json:"provider"`
	ExpiryDate string `json:"expiry_date,omitempty"`
}

// reservedField reports whether name is a top-level field the package writes, of any event
// type: Data may not use it (nor the utm_ prefix).
func reservedField(name string) bool {
	switch name {
	case "type", "browser_id", "client_key", "channel", "language", "currency", "page", "pos",
		"requested_at", "referrer", "identifiers", "email", "firstname", "lastname", "title",
		"gender", "dob", "mobile", "phone", "street", "city", "state", "country", "postal_code",
		"ext":
		return true
	}
	return len(name) >= 4 && strings.EqualFold(name[:4], "utm_")
}

// eventTimeLayout is ISO 8601 in UTC with milliseconds, as the SDKs send requested_at.
const eventTimeLayout = "2006-01-02T15:04:05.000Z"

func eventTime(t time.Time) string { return t.UTC().Format(eventTimeLayout) }

// shortDateLayout is the form both SDKs' validators require of dob and expiry_date
// (isShortISODateString: YYYY-MM-DDThh:mm, read as UTC); anything else they refuse before
// sending (IV-0002, IV-0004).
const shortDateLayout = "2006-01-02T15:04"

// encodeEvent validates ev and encodes it; now stamps an event without RequestedAt.
func (c *Client) encodeEvent(ev *Event, now time.Time) ([]byte, error) {
	if err := c.checkEvent(ev); err != nil {
		return nil, err
	}
	at := ev.RequestedAt
	if at.IsZero() {
		at = now
	}
	b := eventBody{
		Type:        ev.Type,
		BrowserID:   strings.ToLower(ev.BrowserID), // see FlowRequest's body
		ClientKey:   c.clientKey,
		Channel:     cmp.Or(ev.Channel, c.cfg.channel),
		Language:    strings.ToUpper(cmp.Or(ev.Language, c.cfg.language)), // "uppercase ISO 639-1", as the SDKs send it
		Currency:    cmp.Or(ev.Currency, c.cfg.currency),
		Page:        ev.Page,
		PointOfSale: cmp.Or(ev.PointOfSale, c.cfg.pointOfSale),
		Referrer:    ev.Referrer,
		Ext:         ev.Ext,
	}
	var raw []byte
	if ev.Guest == nil && len(ev.Ext) == 0 {
		// Most events (every VIEW) hold the base fields only: they are appended as
		// json.Marshal writes them, in a fraction of its time, on the page's request path.
		raw = b.appendBase(make([]byte, 0, 384), at)
	} else {
		var err error
		if raw, err = marshalEvent(b, ev.Guest, at); err != nil {
			return nil, err
		}
	}
	if len(ev.UTM) > 0 {
		var prev string
		for _, k := range sortedUTMKeys(ev.UTM) {
			// Keys differing only in case would repeat a field; the first (in sorted order) wins.
			if key, ok := utmKey(k); ok && key != prev {
				raw = appendField(raw, "utm_"+key, ev.UTM[k])
				prev = key
			}
		}
	}
	if len(ev.Data) > 0 {
		for _, k := range mapkeys.Sorted(ev.Data) {
			v, err := json.Marshal(ev.Data[k])
			if err != nil {
				return nil, invalidf("data field %q cannot be encoded as JSON: %v", k, err)
			}
			raw = appendRaw(raw, k, v)
		}
	}
	if len(raw) > maxEventSize {
		return nil, invalidf("the event is %d bytes, over the %d-byte cap", len(raw), maxEventSize)
	}
	return raw, nil
}

// marshalEvent encodes b with the guest's fields (an IDENTITY event) and its ext, requested at
// at. (b is a copy: the fast path's stays on the stack.)
func marshalEvent(b eventBody, g *Guest, at time.Time) ([]byte, error) {
	b.RequestedAt = eventTime(at)
	if g != nil {
		b.Identifiers = make([]identifierBody, len(g.Identifiers))
		for i, id := range g.Identifiers {
			b.Identifiers[i] = identifierBody{ID: id.ID, Provider: id.Provider}
			if !id.Expiry.IsZero() {
				b.Identifiers[i].ExpiryDate = id.Expiry.UTC().Format(shortDateLayout)
			}
		}
		b.Email, b.FirstName, b.LastName, b.Title, b.Gender = g.Email, g.FirstName, g.LastName, g.Title, g.Gender
		b.Mobile, b.Phone, b.Street, b.City, b.State = g.Mobile, g.Phone, g.Street, g.City, g.State
		b.Country, b.PostalCode = g.Country, g.PostalCode
		if !g.DateOfBirth.IsZero() {
			b.DOB = g.DateOfBirth.Format("2006-01-02") + "T00:00"
		}
	}
	raw, err := json.Marshal(&b)
	if err != nil {
		return nil, invalidf("the event cannot be encoded as JSON: %v", err)
	}
	return raw, nil
}

// appendBase appends b, requested at at, as json.Marshal encodes it when it has no guest and
// no ext: the base fields, and the referrer when there is one.
func (b *eventBody) appendBase(dst []byte, at time.Time) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendJSONString(dst, b.Type)
	dst = append(dst, `,"browser_id":`...)
	dst = appendJSONString(dst, b.BrowserID)
	dst = append(dst, `,"client_key":`...)
	dst = appendJSONString(dst, b.ClientKey)
	dst = append(dst, `,"channel":`...)
	dst = appendJSONString(dst, b.Channel)
	dst = append(dst, `,"language":`...)
	dst = appendJSONString(dst, b.Language)
	dst = append(dst, `,"currency":`...)
	dst = appendJSONString(dst, b.Currency)
	dst = append(dst, `,"page":`...)
	dst = appendJSONString(dst, b.Page)
	dst = append(dst, `,"pos":`...)
	dst = appendJSONString(dst, b.PointOfSale)
	dst = append(dst, `,"requested_at":"`...)
	dst = appendEventTime(dst, at) // digits and -:.TZ: nothing to escape
	dst = append(dst, '"')
	if b.Referrer != "" {
		dst = append(dst, `,"referrer":`...)
		dst = appendJSONString(dst, b.Referrer)
	}
	return append(dst, '}')
}

// appendEventTime appends t as eventTime formats it (eventTimeLayout), digit by digit: the
// layout is fixed, and time.Time.AppendFormat's reading of it was a tenth of a VIEW's cost.
// Years outside 0000-9999 take AppendFormat's way (FuzzAppendEventTime holds the two equal).
func appendEventTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, eventTimeLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	dst = append(dst, byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	dst = append(dst, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':')
	dst = append(dst, byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

// appendJSONString appends s as a JSON string escaped as json.Marshal escapes it (HTML
// characters included): FuzzAppendJSONString holds the two equal.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, <, > and &
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // invalid UTF-8
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // line and paragraph separators
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendField adds "key": value to the JSON object in obj.
func appendField(obj []byte, key, value string) []byte {
	obj = append(obj[:len(obj)-1], ',')
	obj = appendJSONString(obj, key)
	obj = append(obj, ':')
	obj = appendJSONString(obj, value)
	return append(obj, '}')
}

// appendRaw adds "key": raw before the closing brace of the JSON object in obj, which always
// holds at least the base fields.
func appendRaw(obj []byte, key string, raw []byte) []byte {
	obj = append(obj[:len(obj)-1], ',')
	obj = appendJSONString(obj, key)
	obj = append(obj, ':')
	obj = append(obj, raw...)
	return append(obj, '}')
}

// utmKey lower-cases a UTM key and reports whether it may be sent: letters, digits and
// underscores only (the rest of a visitor's URL is not the API's business).
func utmKey(k string) (string, bool) {
	if k == "" || len(k) > 64 {
		return "", false
	}
	k = strings.ToLower(k)
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return "", false
		}
	}
	return k, true
}

// sortedUTMKeys sorts the keys by their lower-case form, so that keys differing only in case
// are neighbours.
func sortedUTMKeys(m map[string]string) []string {
	return mapkeys.SortedFunc(m, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
	})
}
