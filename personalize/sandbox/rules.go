package sandbox

import "strings"

// Rule picks a flow's response from the request. Rules must not modify the request.
type Rule func(r *Request) bool

// UTMIs matches when the request's UTM parameter key, read where the flow reads it
// (Request.UTM: params.utm.<key>, or params.utm_<key> for a flow that reads UTMFlat; the key
// exactly), equals value without regard to case.
func UTMIs(key, value string) Rule {
	return func(r *Request) bool {
		v := r.UTM(key)
		return v != "" && strings.EqualFold(v, value)
	}
}

// LanguageIs matches the request's language without regard to case ("en" matches "EN").
func LanguageIs(lang string) Rule {
	return func(r *Request) bool { return r != nil && r.Language != "" && strings.EqualFold(r.Language, lang) }
}

// PointOfSaleIs matches the request's point of sale without regard to case.
func PointOfSaleIs(pos string) Rule {
	return func(r *Request) bool {
		return r != nil && r.PointOfSale != "" && strings.EqualFold(r.PointOfSale, pos)
	}
}

// ParamIs matches when the top-level param key is a scalar whose text equals value exactly.
func ParamIs(key, value string) Rule {
	return func(r *Request) bool {
		if r == nil {
			return false
		}
		v, ok := r.Params[key]
		return ok && scalarString(v) == value && (value != "" || v == "")
	}
}

// Returning matches an identity that called this flow before (CallCount > 1).
func Returning() Rule { return CallCountAtLeast(2) }

// CallCountAtLeast matches from the identity's n-th call of this flow on.
func CallCountAtLeast(n int) Rule {
	return func(r *Request) bool { return r != nil && r.CallCount >= n }
}

// HasEvent matches when the request's browser has sent an event of this type (without regard
// to case), e.g. "IDENTITY" once the guest signed in, or "VIEW".
func HasEvent(eventType string) Rule {
	return func(r *Request) bool {
		if r == nil {
			return false
		}
		for _, e := range r.Events {
			if strings.EqualFold(e.Type, eventType) {
				return true
			}
		}
		return false
	}
}

// Viewed matches when the request's browser has sent a VIEW event whose page is page
// (exactly, e.g. "/booking"), as a flow that answers differently once a page was seen.
func Viewed(page string) Rule {
	return func(r *Request) bool {
		if r == nil {
			return false
		}
		for _, e := range r.Events {
			if strings.EqualFold(e.Type, "VIEW") {
				if p, _ := e.Body["page"].(string); p == page {
					return true
				}
			}
		}
		return false
	}
}

// All matches when every rule matches (and when there are none).
func All(rules ...Rule) Rule {
	return func(r *Request) bool {
		for _, rule := range rules {
			if rule != nil && !rule(r) {
				return false
			}
		}
		return true
	}
}

// Any matches when at least one rule matches (never when there are none).
func Any(rules ...Rule) Rule {
	return func(r *Request) bool {
		for _, rule := range rules {
			if rule != nil && rule(r) {
				return true
			}
		}
		return false
	}
}

// Not matches when rule does not.
func Not(rule Rule) Rule {
	return func(r *Request) bool { return rule == nil || !rule(r) }
}
