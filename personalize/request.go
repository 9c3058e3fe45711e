package personalize

import (
	"strings"
)

// FlowRequest is one call of a flow. Empty fields take the client's defaults.
type FlowRequest struct {
	// FriendlyID names the live experience or experiment. Required.
	FriendlyID string
	// Identity is who the flow runs for: exactly one browser ID, email or identifier.
	Identity Identity
	// Channel, Language, Currency and PointOfSale override the client's defaults.
	Channel     string
	Language    string
	Currency    string
	PointOfSale string
	// UTM holds the visit's UTM parameters, keys without the "utm_" prefix ("campaign"). They are
	// sent as params.utm, or as flat params.utm_* keys with WithUTMShape(UTMFlat).
	UTM map[string]string
	// Referrer is sent as params.referrer unless WithReferrerParam(false).
	Referrer string
	// Params are the flow's custom fields; a key given here replaces the same top-level key
	// built from UTM and Referrer. The map is read, never modified.
	Params map[string]any
	// UserAgent is the visitor's User-Agent, forwarded as a header like the Cloud SDK does.
	UserAgent string
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
func (c *Client) body(req *FlowRequest) (*callFlowsBody, error) {
	if strings.TrimSpace(req.FriendlyID) == "" {
		return nil, invalidf("empty friendly ID")
	}
	if err := req.Identity.validate(); err != nil {
		return nil, err
	}
	b := &callFlowsBody{
		ClientKey:    c.clientKey,
		Channel:      or(req.Channel, c.cfg.channel),
		Language:     or(req.Language, c.cfg.language),
		CurrencyCode: or(req.Currency, c.cfg.currency),
		PointOfSale:  or(req.PointOfSale, c.cfg.pointOfSale),
		FriendlyID:   req.FriendlyID,
		Params:       c.params(req),
	}
	if req.Channel != "" {
		if err := checkChannel(req.Channel); err != nil {
			return nil, invalidf("channel %q must be upper-case letters and underscores", req.Channel)
		}
	}
	switch req.Identity.kind {
	case BrowserIDIdentity:
		b.BrowserID = req.Identity.value
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
	n := len(req.Params)
	if len(req.UTM) > 0 {
		n += len(req.UTM)
	}
	if n == 0 && (req.Referrer == "" || !c.cfg.sendReferrer) {
		return nil
	}
	p := make(map[string]any, n+1)
	if len(req.UTM) > 0 {
		if c.cfg.utmShape == UTMFlat {
			for k, v := range req.UTM {
				p["utm_"+k] = v
			}
		} else {
			utm := make(map[string]string, len(req.UTM))
			for k, v := range req.UTM {
				utm[k] = v
			}
			p["utm"] = utm
		}
	}
	if req.Referrer != "" && c.cfg.sendReferrer {
		p["referrer"] = req.Referrer
	}
	for k, v := range req.Params {
		p[k] = v
	}
	return p
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
