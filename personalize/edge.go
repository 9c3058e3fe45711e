package personalize

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-personalize/sdk/internal/browserid"
)

// EdgeURL is the Sitecore Edge proxy's base URL, where WithEdge points a client unless
// WithBaseURL says otherwise (Sitecore/Cloud-SDK packages/core/src/lib/consts.ts,
// SITECORE_EDGE_URL).
const EdgeURL = "https://edge-platform.sitecorecloud.io"

// TransportEdge is CallInfo.Transport (and the others') for a call made through the Sitecore
// Edge proxy (WithEdge).
const TransportEdge = "edge"

// edgeConfig is WithEdge's: the Sitecore Edge context ID and the site's name.
type edgeConfig struct {
	contextID string
	siteName  string
}

// WithEdge makes the client reach Personalize through the Sitecore Edge proxy, as the Cloud
// SDK and the XM Cloud (SitecoreAI) JSS and Content SDK heads do, instead of the regional API
// hosts: contextID is the site's Sitecore Edge context ID (sitecoreEdgeContextId) and siteName
// its site name (siteName). Give New an empty client key then: the Edge proxy finds the
// tenant, and its point of sale, from the context ID and the site, so a client key and
// WithPointOfSale are refused, and so is WithRegion. The base URL is EdgeURL unless
// WithBaseURL sets another (a proxy, the sandbox, which serves the Edge endpoints too).
//
// Everything above the transport works the same: pages, budgets, breakers, the decision
// cache, events and the components. Through the Edge, flows can also send the guest ref
// (FlowRequest.GuestRef, kept by the middleware in the sc_cid_personalize cookie) and
// variant IDs (WithVariants). The requests, field for field, are those of the Cloud SDK
// (docs/edge.md lists them with their sources, and the differences that remain).
func WithEdge(contextID, siteName string) Option {
	return optionFunc(func(c *config) error {
		contextID, siteName = strings.TrimSpace(contextID), strings.TrimSpace(siteName)
		// The Cloud SDK's own checks (MV-0001, MV-0002), and no character that would change
		// the meaning of the URLs they go into.
		if contextID == "" {
			return invalidConfigf("WithEdge: an empty context ID (sitecoreEdgeContextId)")
		}
		if siteName == "" {
			return invalidConfigf("WithEdge: an empty site name (siteName)")
		}
		if !edgeToken(contextID) {
			return invalidConfigf("WithEdge: the context ID %q has characters a context ID never has", contextID)
		}
		if len(siteName) > 256 || strings.ContainsAny(siteName, "\x00\r\n") {
			return invalidConfigf("WithEdge: the site name is over 256 bytes or holds a control character")
		}
		c.edge = &edgeConfig{contextID: contextID, siteName: siteName}
		return nil
	})
}

// edgeToken reports whether s may be a context ID: letters, digits, '-' and '_' (Sitecore's
// are UUID-like), at most 128 bytes.
func edgeToken(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkEdge checks a configuration that names the Edge proxy: no client key, no point of
// sale, no region.
func (c *config) checkEdge(clientKey string) error {
	if clientKey != "" {
		return invalidConfigf("WithEdge: give New an empty client key; the Edge proxy finds the tenant from the context ID")
	}
	if c.pointOfSale != "" {
		return invalidConfigf("WithEdge: WithPointOfSale does not apply; the Edge site sets the point of sale")
	}
	if c.region {
		return invalidConfigf("WithEdge and WithRegion both name the API's host: give one of them")
	}
	if !c.baseURLSet {
		c.baseURL = EdgeURL
	}
	return nil
}

// endpoints fills in the URLs the client calls: the regional API's paths, or the Edge proxy's
// (Sitecore/Cloud-SDK: packages/personalize/src/lib/personalization/send-call-flows-request.ts,
// packages/core/src/lib/browser-id/construct-get-browser-id-url.ts,
// packages/events/src/lib/events/send-event/sendEvent.ts).
func (c *Client) endpoints() {
	base := c.cfg.baseURL
	if e := c.cfg.edge; e != nil {
		ctx := "sitecoreContextId=" + url.QueryEscape(e.contextID)
		site := ctx + "&siteId=" + url.QueryEscape(e.siteName)
		c.transport = TransportEdge
		c.callFlowsURL = base + "/v1/personalize?" + site
		c.createURL = base + "/v1/events/v1.2/browser/create.json?" + ctx + "&client_key="
		c.eventsURL = base + "/v1/events/v1.2/events?" + site
		c.showURL = [2]string{base + "/v1/events/v1.2/browser/", "/show.json?" + ctx + "&client_key=&api_token="}
		c.parseEndpoints()
		return
	}
	c.transport = TransportDirect
	c.callFlowsURL = base + "/v2/callFlows"
	c.createURL = base + "/v1.2/browser/create.json?client_key=" + url.QueryEscape(c.clientKey) + "&message=%7B%7D"
	c.eventsURL = base + "/v1.2/events"
	c.parseEndpoints()
}

// tenant names the client's tenant in the decision cache's shared stores: its client key, or
// through the Edge proxy its context ID and site.
func (c *Client) tenant() string {
	if e := c.cfg.edge; e != nil {
		return "edge\x00" + e.contextID + "\x00" + e.siteName
	}
	return c.clientKey
}

// edge reports whether the client reaches the API through the Edge proxy.
func (c *Client) edge() bool { return c.cfg.edge != nil }

// browserAnswer is create.json's answer: the browser's ref and, through the Edge proxy, the
// guest's (Sitecore/Cloud-SDK packages/core/src/lib/interfaces.ts, EPResponse).
type browserAnswer struct {
	Ref         string `json:"ref"`
	CustomerRef string `json:"customer_ref"`
}

// GuestRef returns the ref of the guest a browser belongs to, through the Edge proxy (GET
// /v1/events/v1.2/browser/{id}/show.json, as the Cloud SDK gets it for its
// sc_cid_personalize cookie: packages/core/src/lib/guest-id/fetch-guest-id-from-edge-proxy.ts).
// Flows send it as guestRef (FlowRequest.GuestRef); the middleware gets and keeps it for
// each visitor. It is ErrInvalidConfig on a client without WithEdge, and ErrInvalidRequest
// for an ID that is no browser ID.
func (c *Client) GuestRef(ctx context.Context, browserID string) (string, error) {
	if c.zero() {
		return "", errZeroClient
	}
	if !c.edge() {
		return "", invalidConfigf("GuestRef needs a client made WithEdge: the regional API has no guest ref endpoint the SDKs use")
	}
	if !browserid.Valid(browserID) {
		return "", invalidf("GuestRef: %q is not a browser ID", excerpt([]byte(browserID)))
	}
	var ref string
	u := c.showURL[0] + strings.ToLower(browserID) + c.showURL[1]
	err := c.browserCall(ctx, guestKey, u, true, "personalize: getting a guest ref failed", func(status int, raw []byte) error {
		if apiErr := errorObject(status, raw); apiErr != nil {
			return apiErr
		}
		var body struct {
			Customer struct {
				Ref string `json:"ref"`
			} `json:"customer"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return fmt.Errorf("%w: show.json: %v", ErrMalformedResponse, err)
		}
		if !browserid.ValidGuestRef(body.Customer.Ref) {
			return fmt.Errorf("%w: show.json returned no valid guest ref", ErrMalformedResponse)
		}
		ref = body.Customer.Ref
		return nil
	})
	if err != nil {
		return "", err
	}
	return ref, nil
}
