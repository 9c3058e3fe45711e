package personalize

import (
	"cmp"
	"encoding/json"
	"math"
	"strings"

	"github.com/go-personalize/sdk/internal/browserid"
)

// checkEvent rejects an event the Stream API would reject or misfile, before any network call.
// Its errors never hold an email address or identifier value.
func (c *Client) checkEvent(ev *Event) error {
	if err := checkEventType(ev.Type); err != nil {
		return err
	}
	if ev.BrowserID == "" {
		return invalidf("%s event has no browser ID", ev.Type)
	}
	if !browserid.Valid(ev.BrowserID) {
		return invalidf("%s event has a malformed browser ID", ev.Type)
	}
	return c.checkEventFields(ev)
}

// checkEventFields checks all but the type and the browser ID, so that a page can reject an
// invalid event before it gets a browser ID for it.
func (c *Client) checkEventFields(ev *Event) error {
	if err := checkSettings(ev.Channel, ev.Language, ev.Currency, ev.PointOfSale); err != nil {
		return err
	}
	switch {
	case c.edge() && ev.PointOfSale != "":
		return invalidf("a point of sale does not apply through the Sitecore Edge proxy: the Edge site sets it")
	case c.edge():
		// pos goes out empty, as the Cloud SDK sends it (packages/events/src/lib/events/base-event.ts).
	case strings.TrimSpace(cmp.Or(ev.PointOfSale, c.cfg.pointOfSale)) == "":
		return invalidf("no point of sale: set WithPointOfSale or the event's PointOfSale")
	}
	// The Stream API requires a page on every event, not only on VIEW.
	if strings.TrimSpace(ev.Page) == "" {
		return invalidf("%s event has no page (Track and Identify fill it in from the request)", ev.Type)
	}
	switch ev.Type {
	case EventIdentity:
		if ev.Guest == nil {
			return invalidf("IDENTITY event has no guest")
		}
		if err := ev.Guest.check(); err != nil {
			return err
		}
	}
	if ev.Guest != nil && ev.Type != EventIdentity {
		return invalidf("%s event carries a guest: only IDENTITY events do", ev.Type)
	}
	if err := checkExt(ev.Ext); err != nil {
		return err
	}
	for k := range ev.Data {
		if k == "" {
			return invalidf("data has an empty field name")
		}
		if reservedField(k) {
			return invalidf("data field %q would replace a field of the event", truncate(k))
		}
	}
	return nil
}

// checkEventType: upper-case letters, digits and underscores, starting with a letter.
func checkEventType(t string) error {
	if t == "" {
		return invalidf("event has no type")
	}
	ok := len(t) <= maxEventTypeLen && 'A' <= t[0] && t[0] <= 'Z'
	for i := 1; ok && i < len(t); i++ {
		c := t[i]
		ok = 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
	}
	if !ok {
		return invalidf("event type %q must be upper-case letters, digits and underscores (e.g. ADD_TO_CART)", truncate(t))
	}
	return nil
}

// checkCustomType also rejects the reserved types, which have helpers of their own.
func checkCustomType(t string) error {
	switch t {
	case EventView:
		return invalidf("VIEW is a reserved event type: the middleware sends page views (Options.SendViewEvents)")
	case EventIdentity:
		return invalidf("IDENTITY is a reserved event type: use Identify")
	}
	return checkEventType(t)
}

// checkExt: at most MaxExtAttributes flat attributes with alphanumeric camelCase names and
// string, boolean or number values.
func checkExt(ext map[string]any) error {
	if len(ext) > MaxExtAttributes {
		return invalidf("ext has %d attributes, over the %d allowed", len(ext), MaxExtAttributes)
	}
	for name, v := range ext {
		if !extName(name) {
			return invalidf("ext attribute name %q must be alphanumeric camelCase (e.g. productSku)", truncate(name))
		}
		if !extValue(v) {
			return invalidf("ext attribute %q must be a string, boolean or finite number, not %T", truncate(name), v)
		}
	}
	return nil
}

func extName(s string) bool {
	if s == "" || len(s) > maxEventTypeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func extValue(v any) bool {
	switch v := v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case float32:
		f := float64(v)
		return !math.IsNaN(f) && !math.IsInf(f, 0)
	case json.Number:
		_, err := v.Float64()
		return err == nil
	}
	return false
}

// check validates an IDENTITY event's guest without ever naming a value.
func (g *Guest) check() error {
	if len(g.Identifiers) == 0 {
		return invalidf("IDENTITY event needs at least one identifier")
	}
	for i, id := range g.Identifiers {
		if strings.TrimSpace(id.ID) == "" {
			return invalidf("identifier %d has an empty id", i+1)
		}
		if strings.TrimSpace(id.Provider) == "" {
			return invalidf("identifier %d has an empty provider", i+1)
		}
	}
	if g.Email != "" && !looksLikeEmail(g.Email) {
		return invalidf("the guest's email is not an email address")
	}
	return nil
}

// looksLikeEmail is the Cloud SDK's sort of check: one @ with text on both sides, a dot in
// the domain, no spaces.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 1 || at != strings.LastIndexByte(s, '@') || len(s) > 254 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

// truncate shortens a caller-supplied name for an error message.
func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}
