package personalize

import (
	"encoding/json"
	"slices"
)

// appendJSON appends the body as json.Marshal encodes it, field for field and in the same
// order (FuzzFlowBodyJSON holds the two equal): its strings by hand, its params through
// encoding/json, which also refuses the values JSON cannot hold. json.Marshal was about a
// tenth of a flow call's cost in the site's process, for what is mostly a few short strings.
func (b *callFlowsBody) appendJSON(dst []byte) ([]byte, error) {
	var params []byte
	if len(b.Params) > 0 {
		var err error
		if params, err = json.Marshal(b.Params); err != nil {
			return nil, err
		}
	}
	// The capacity is the body's length unless a string needs escaping: the always-present
	// members' keys, quotes and commas take 62 bytes, an optional string's at most 18.
	n := 62 + len(b.ClientKey) + len(b.Channel) + len(b.PointOfSale) + len(b.FriendlyID)
	for _, s := range [...]string{b.Language, b.CurrencyCode, b.BrowserID, b.Email, b.GuestRef} {
		if s != "" {
			n += 18 + len(s)
		}
	}
	if b.Identifiers != nil {
		n += 38 + len(b.Identifiers.ID) + len(b.Identifiers.Provider)
	}
	if len(b.Variants) > 0 {
		n += 14
		for _, v := range b.Variants {
			n += 3 + len(v)
		}
	}
	if len(params) > 0 {
		n += 10 + len(params)
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, `{"clientKey":`...)
	dst = appendJSONString(dst, b.ClientKey)
	dst = append(dst, `,"channel":`...)
	dst = appendJSONString(dst, b.Channel)
	dst = appendOptionalString(dst, `,"language":`, b.Language)
	dst = appendOptionalString(dst, `,"currencyCode":`, b.CurrencyCode)
	dst = append(dst, `,"pointOfSale":`...)
	dst = appendJSONString(dst, b.PointOfSale)
	dst = appendOptionalString(dst, `,"browserId":`, b.BrowserID)
	dst = appendOptionalString(dst, `,"email":`, b.Email)
	if b.Identifiers != nil {
		dst = append(dst, `,"identifiers":{"id":`...)
		dst = appendJSONString(dst, b.Identifiers.ID)
		dst = append(dst, `,"provider":`...)
		dst = appendJSONString(dst, b.Identifiers.Provider)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"friendlyId":`...)
	dst = appendJSONString(dst, b.FriendlyID)
	dst = appendOptionalString(dst, `,"guestRef":`, b.GuestRef)
	if len(b.Variants) > 0 {
		dst = append(dst, `,"variants":[`...)
		for i, v := range b.Variants {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, v)
		}
		dst = append(dst, ']')
	}
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}'), nil
}

// appendOptionalString appends the member key (with its leading comma) and s, unless s is
// empty: a string field with omitempty.
func appendOptionalString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(append(dst, key...), s)
}
