package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Request is a decoded callFlows body, with what the sandbox knows about its caller, as rules
// see it. Rules must treat it as read-only.
type Request struct {
	ClientKey    string
	Channel      string
	Language     string
	CurrencyCode string
	PointOfSale  string
	FriendlyID   string

	// Exactly one of BrowserID, Email and Identifiers is set on a valid request.
	BrowserID   string
	Email       string
	Identifiers *Identifiers

	// Params is the body's params object (numbers as json.Number), nil when absent.
	Params map[string]any

	// CallCount is how many times this identity (browser, email or identifier) called this
	// flow since the last Reset, this call included: 1 on the first call. Valid calls that a
	// fault answered count too; rejected ones do not.
	CallCount int
	// Events are the events this browser sent so far (the last MaxBrowserEvents), oldest first.
	Events []EventRecord
}

// Identifiers is the identifiers identity of a callFlows body.
type Identifiers struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
}

// UTM returns a UTM parameter of the request: params.utm.<key> (the nested shape the Cloud
// SDK sends) or else params.utm_<key> (the flat shape of the Engage SDK). key is given without
// the prefix ("campaign"; "utm_campaign" works too) and matched without regard to case. A
// value that is not a string, number or boolean reads as "".
func (r *Request) UTM(key string) string {
	if r == nil || r.Params == nil {
		return ""
	}
	key = strings.ToLower(key)
	key = strings.TrimPrefix(key, "utm_")
	if utm, ok := lookupFold(r.Params, "utm").(map[string]any); ok {
		if v := scalarString(lookupFold(utm, key)); v != "" {
			return v
		}
	}
	return scalarString(lookupFold(r.Params, "utm_"+key))
}

// Param returns a top-level param as a string ("" when absent or not a scalar).
func (r *Request) Param(key string) string {
	if r == nil {
		return ""
	}
	return scalarString(r.Params[key])
}

// identityKey names the caller for call counting; "" when there is none.
func (r *Request) identityKey() string {
	switch {
	case r.BrowserID != "":
		return "b:" + strings.ToLower(r.BrowserID)
	case r.Email != "":
		return "e:" + strings.ToLower(r.Email)
	case r.Identifiers != nil:
		return "i:" + r.Identifiers.Provider + "\x00" + r.Identifiers.ID
	}
	return ""
}

// lookupFold returns m[key], or the value of a key equal to key without regard to case.
func lookupFold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}
