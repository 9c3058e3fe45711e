package personalize

import (
	"cmp"
	"maps"
	"strings"
)

// FlowRequest is one call of a flow. Empty fields take the client's defaults.
type FlowRequest struct {
	// FriendlyID names the live experience or experiment. Required.
	FriendlyID string
	// Identity is who the flow runs for: exactly one browser ID, email or identifier.
	Identity Identity
	// Channel, Language, Currency and PointOfSale override the client's defaults (see
	// Setting).
	Channel     string
	Language    string
	Currency    string
	PointOfSale string
	// UTM holds the visit's UTM parameters, keys without the "utm_" prefix ("campaign"). They are
	// sent as params.utm, or as flat params.utm_* keys with WithUTMShape(UTMFlat).
	UTM map[string]string
	// Referrer is sent as params.referrer, unless it is over 1 KiB.
	Referrer string
	// Params are the flow's custom fields; a key given here replaces the same top-level key
	// built from UTM and Referrer. The map is read, never modified.
	Params map[string]any
	// UserAgent is the visitor's User-Agent, forwarded unchanged as the Cloud SDK forwards it
	// (its first 512 bytes); without one the library's own is sent.
	UserAgent string
}

// FlowOption changes one flow call of a page (Flow): WithIdentity, WithParams, or a Setting.
type FlowOption interface {
	applyFlow(*FlowRequest)
}

type flowOptionFunc func(*FlowRequest)

func (f flowOptionFunc) applyFlow(r *FlowRequest) { f(r) }

// WithIdentity runs the flow for a known guest instead of the visitor's browser ID. Goals are
// attributed to a browser session only with the browser ID.
func WithIdentity(id Identity) FlowOption {
	return flowOptionFunc(func(r *FlowRequest) { r.Identity = id })
}

// WithParams adds custom params to the flow call; their keys replace those built from UTM and
// the referrer, and those of an earlier WithParams.
func WithParams(params map[string]any) FlowOption {
	return flowOptionFunc(func(r *FlowRequest) {
		if len(params) == 0 {
			return
		}
		merged := make(map[string]any, len(r.Params)+len(params))
		maps.Copy(merged, r.Params)
		maps.Copy(merged, params)
		r.Params = merged
	})
}

// callFlowsBody is the wire format of POST /v2/callFlows, field for field as documented.
type callFlowsBody struct {
	ClientKey    string         `json:"clientKey"`
	Channel      string         `json:"channel"`
	Language     string         `json:"language,omitempty"`
	CurrencyCode string         `json:"currencyCode,omitempty"`
	PointOfSale  string         `json:"pointOfSale,omitempty"`
	BrowserID    string         `json:"browserId,omitempty"`
	Email        string         `json:"email,omitempty"`
	Identifiers  *identifiers   `json:"identifiers,omitempty"`
	FriendlyID   string         `json:"friendlyId"`
	Params       map[string]any `json:"params,omitempty"`
}

type identifiers struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
}

// body validates req and builds its wire body with the client's defaults.
func (c *Client) body(req *FlowRequest) (*callFlowsBody, error) { // all but Params (payload adds them)
	if strings.TrimSpace(req.FriendlyID) == "" {
		return nil, invalidf("empty friendly ID")
	}
	if err := req.Identity.validate(); err != nil {
		return nil, err
	}
	if err := checkSettings(req.Channel, req.Language, req.Currency, req.PointOfSale); err != nil {
		return nil, err
	}
	pos := cmp.Or(req.PointOfSale, c.cfg.pointOfSale)
	if pos == "" {
		// The API needs a point of sale that exists in the tenant, and Engage refuses to call
		// without one (MV-0003): fail here, before any network traffic.
		return nil, invalidf("no point of sale: give the client WithPointOfSale (the name of a point of sale of your tenant), or the call")
	}
	b := &callFlowsBody{
		ClientKey:    c.clientKey,
		Channel:      cmp.Or(req.Channel, c.cfg.channel),
		Language:     strings.ToUpper(cmp.Or(req.Language, c.cfg.language)), // as both SDKs send it
		CurrencyCode: cmp.Or(req.Currency, c.cfg.currency),
		PointOfSale:  pos,
		FriendlyID:   req.FriendlyID,
	}
	switch req.Identity.kind {
	case BrowserIDIdentity:
		// A UUID's hex digits are case-insensitive; Sitecore hands them out in lower case.
		b.BrowserID = strings.ToLower(req.Identity.value)
	case EmailIdentity:
		b.Email = req.Identity.value
	case IdentifiersIdentity:
		b.Identifiers = &identifiers{ID: req.Identity.value, Provider: req.Identity.provider}
	}
	return b, nil
}

// params merges UTM, referrer and the caller's params into a new map, leaving every input as
// it was.
func (c *Client) params(req *FlowRequest) map[string]any {
	referrer := req.Referrer
	if len(referrer) > maxReferrer {
		referrer = ""
	}
	n := len(req.Params) + len(req.UTM)
	if n == 0 && referrer == "" {
		return nil
	}
	p := make(map[string]any, n+1)
	if len(req.UTM) > 0 {
		// The keys follow the events' rules (lower case; letters, digits and underscores), so
		// that a flow and a VIEW event of the same page carry the same UTM parameters.
		utm := p
		if c.cfg.utmShape != UTMFlat {
			utm = make(map[string]any, len(req.UTM))
			p["utm"] = utm
		}
		prefix := ""
		if c.cfg.utmShape == UTMFlat {
			prefix = "utm_"
		}
		var prev string
		for _, k := range sortedUTMKeys(req.UTM) {
			// Keys differing only in case would repeat a field; the first (in sorted order) wins.
			if key, ok := utmKey(k); ok && key != prev {
				utm[prefix+key] = req.UTM[k]
				prev = key
			}
		}
		if len(utm) == 0 {
			delete(p, "utm")
		}
	}
	if referrer != "" {
		p["referrer"] = referrer
	}
	maps.Copy(p, req.Params)
	return p
}
