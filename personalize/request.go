package personalize

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-personalize/sdk/internal/browserid"
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
	// GuestRef is the guest the browser belongs to (Client.GuestRef), sent as guestRef
	// through the Edge proxy (WithEdge) as the Cloud SDK sends its sc_cid_personalize
	// cookie; pages fill it in. Refused without WithEdge.
	GuestRef string
	// Variants are the page or component variant IDs the experience may choose from, sent
	// as variants through the Edge proxy (the Cloud SDK's pageVariantIds; see package xmcloud
	// for the IDs XM Cloud sites use). Refused without WithEdge.
	Variants []string
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

// WithVariants sets the variant IDs the flow's experience chooses from (FlowRequest.Variants),
// replacing those of an earlier WithVariants. Through the Edge proxy only.
func WithVariants(ids ...string) FlowOption {
	ids = slices.Clone(ids)
	return flowOptionFunc(func(r *FlowRequest) { r.Variants = ids })
}

// callFlowsBody is the wire format of POST /v2/callFlows, field for field as documented, and
// of the Edge proxy's POST /v1/personalize, which adds guestRef and variants and sends
// clientKey and pointOfSale empty (Sitecore/Cloud-SDK
// packages/personalize/src/lib/personalization/personalizer.ts, mapPersonalizeInputToEPData).
type callFlowsBody struct {
	ClientKey    string         `json:"clientKey"`
	Channel      string         `json:"channel"`
	Language     string         `json:"language,omitempty"`
	CurrencyCode string         `json:"currencyCode,omitempty"`
	PointOfSale  string         `json:"pointOfSale"` // required (direct), or "" (Edge)
	BrowserID    string         `json:"browserId,omitempty"`
	Email        string         `json:"email,omitempty"`
	Identifiers  *identifiers   `json:"identifiers,omitempty"`
	FriendlyID   string         `json:"friendlyId"`
	GuestRef     string         `json:"guestRef,omitempty"`
	Variants     []string       `json:"variants,omitempty"`
	Params       map[string]any `json:"params,omitempty"`
}

// Bounds of a flow's variants: the JSS middleware sends a page's few variant IDs.
const (
	maxVariants  = 64
	maxVariantID = 256
)

// checkVariants refuses variant IDs the API could not mean: empty, over maxVariantID bytes, or
// holding control characters; and more than maxVariants of them.
func checkVariants(ids []string) error {
	if len(ids) > maxVariants {
		return invalidf("%d variants, over the cap of %d", len(ids), maxVariants)
	}
	for _, id := range ids {
		if id == "" || len(id) > maxVariantID || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
			return invalidf("variant ID %q is empty, over %d bytes or holds control characters", excerpt([]byte(id)), maxVariantID)
		}
	}
	return nil
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
	b := &callFlowsBody{
		Channel:      cmp.Or(req.Channel, c.cfg.channel),
		Language:     strings.ToUpper(cmp.Or(req.Language, c.cfg.language)), // as both SDKs send it
		CurrencyCode: cmp.Or(req.Currency, c.cfg.currency),
		FriendlyID:   req.FriendlyID,
	}
	if c.edge() {
		// The tenant and point of sale come from the context ID and the site: clientKey and
		// pointOfSale go out empty, as the Cloud SDK sends them.
		if req.PointOfSale != "" {
			return nil, invalidf("a point of sale does not apply through the Sitecore Edge proxy: the Edge site sets it")
		}
		if req.GuestRef != "" && !browserid.ValidGuestRef(req.GuestRef) {
			return nil, invalidf("guest ref %q is not one Sitecore gives", excerpt([]byte(req.GuestRef)))
		}
		if err := checkVariants(req.Variants); err != nil {
			return nil, err
		}
		b.GuestRef, b.Variants = req.GuestRef, req.Variants
	} else {
		if req.GuestRef != "" || len(req.Variants) > 0 {
			return nil, invalidf("a guest ref and variants go only through the Sitecore Edge proxy (WithEdge)")
		}
		pos := cmp.Or(req.PointOfSale, c.cfg.pointOfSale)
		if pos == "" {
			// The API needs a point of sale that exists in the tenant, and Engage refuses to call
			// without one (MV-0003): fail here, before any network traffic.
			return nil, invalidf("no point of sale: give the client WithPointOfSale (the name of a point of sale of your tenant), or the call")
		}
		b.ClientKey, b.PointOfSale = c.clientKey, pos
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
