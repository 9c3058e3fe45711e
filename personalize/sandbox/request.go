package sandbox

import (
	"encoding/json"
	"fmt"
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
	// UTMShape is where the called flow reads UTM parameters (its FlowDef's WithUTMShape),
	// which UTM and UTMIs follow.
	UTMShape UTMShape

	// The fields below come only through the Sitecore Edge (POST /v1/personalize); they are
	// "" or nil for a /v2/callFlows request, whose guestRef and variants are ignored.

	// ContextID and SiteName are the query's sitecoreContextId and siteId.
	ContextID string
	SiteName  string
	// GuestRef is the body's guestRef: the guest reference the Cloud SDK keeps in its
	// sc_cid_personalize cookie ("" when absent; the SDK may send "").
	GuestRef string
	// Variants is the body's variants: the page or component variant IDs the experience
	// chooses from (the Cloud SDK's pageVariantIds), nil when absent. FlowDef.ReturnsVariant
	// answers one of them.
	Variants []string

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

// UTMShape is where a flow reads UTM parameters in a callFlows body's params, as a
// Personalize condition reads request.params.utm.campaign or request.params.utm_campaign:
// a flow reads one shape, and the other does not reach it.
type UTMShape uint8

const (
	// UTMNested reads params.utm.<key>, the shape the Cloud SDK and, by default, the
	// personalize package send (personalize.UTMNested). It is the default.
	UTMNested UTMShape = iota
	// UTMFlat reads params.utm_<key>, the flattened params of the Engage SDK
	// (personalize.UTMFlat).
	UTMFlat
)

// String returns "nested" or "flat".
func (u UTMShape) String() string {
	switch u {
	case UTMNested:
		return "nested"
	case UTMFlat:
		return "flat"
	}
	return fmt.Sprintf("UTMShape(%d)", uint8(u))
}

// UTM returns a UTM parameter of the request where its flow reads it (UTMShape):
// params.utm.<key>, or params.utm_<key> for a flow that reads UTMFlat. key is given without
// the prefix ("campaign"; "utm_campaign" works too) and matched exactly, as a condition's
// JavaScript reads it: the SDKs send lower-case keys, so "Campaign" or a params.utm_Source
// is not "campaign" or "source". A value that is not a string, number or boolean reads as "".
func (r *Request) UTM(key string) string {
	if r == nil || r.Params == nil {
		return ""
	}
	key = strings.TrimPrefix(key, "utm_")
	if r.UTMShape == UTMFlat {
		return scalarString(r.Params["utm_"+key])
	}
	utm, _ := r.Params["utm"].(map[string]any)
	return scalarString(utm[key])
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
