package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// maxDebugRows is how many of the sandbox's records of each kind the debug page lists.
const maxDebugRows = 50

// debug is /_personalize/flows: this visitor's browser ID, the request's UTM parameters and
// the visit's campaign, the flow calls of this page, and what the sandbox recorded for this
// visitor. (Their latest calls and events, and each flow's isolation, are the library's
// debug handler, at /_personalize.) ?run=<friendly ID> runs one of the site's flows for the
// visitor on this page. Nothing on it belongs to another visitor: flow errors can quote a
// browser ID, which replayed as a cookie would give that visitor's personalization.
func (s *site) debug(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	v := views.DebugView{
		Meta:       s.meta(r, "Personalization", "What Personalize decided for this visitor."),
		CookieName: s.cfg.browserCookie(),
		APIBase:    s.cfg.BaseURL,
		Flows:      s.flowIDs(),
		Sandbox:    s.sandbox != nil,
	}
	if id := r.URL.Query().Get("run"); id != "" && slices.Contains(v.Flows, id) {
		res, err := personalize.Flow(ctx, id)
		v.Ran = flowRun(id, res, err)
	}
	for _, c := range personalize.Calls(ctx) {
		v.PageCalls = append(v.PageCalls, callRow(c))
	}
	v.BrowserID = middleware.BrowserID(ctx)
	st := s.client.EventStats()
	v.EventStats = views.EventStats{Sent: st.Sent, Failed: st.Failed, Dropped: st.Dropped, Queued: st.Queued + st.InFlight}
	v.Blocked = middleware.Blocked(ctx).String()
	v.RequestUTM = sortedKVs(middleware.UTM(ctx))
	campaign := middleware.VisitCampaign(ctx)
	v.VisitUTM = sortedKVs(campaign.UTM)
	v.LandingReferrer = campaign.LandingReferrer
	if s.sandbox != nil {
		s.sandboxRecords(&v)
	}
	s.render(w, r, http.StatusOK, views.Debug(v))
}

// flowIDs are the flows the debug page offers to run: the site's own, and any others the
// sandbox defines.
func (s *site) flowIDs() []string {
	ids := []string{views.FlowHomeBanner, views.FlowDestinations, views.FlowNewsletter, views.FlowAncillaries}
	if s.sandbox != nil {
		for _, id := range s.sandbox.Flows() {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func flowRun(id string, res *personalize.Result, err error) *views.FlowRun {
	run := &views.FlowRun{FriendlyID: id, Outcome: personalize.OutcomeOf(err).String()}
	if err != nil {
		run.Error = err.Error()
	}
	if res != nil {
		run.Duration = roundDuration(res.Duration)
		var pretty bytes.Buffer
		if json.Indent(&pretty, res.Raw, "", "  ") == nil {
			run.Response = pretty.String()
		}
	}
	return run
}

func callRow(c personalize.CallInfo) views.CallRow {
	row := views.CallRow{
		Time:       clock(c.Start),
		FriendlyID: c.FriendlyID,
		Outcome:    c.Outcome.String(),
		Duration:   roundDuration(c.Duration),
	}
	if c.Outcome == 0 {
		row.Outcome = "running"
	}
	if c.StatusCode != 0 {
		row.Status = strconv.Itoa(c.StatusCode)
	}
	if c.Err != nil {
		row.Error = c.Err.Error()
	}
	return row
}

// sandboxRecords adds what the sandbox recorded for this visitor, newest first. Other
// visitors' records are left out (only their number of browsers is shown): the sandbox may
// run on a shared development host.
func (s *site) sandboxRecords(v *views.DebugView) {
	you := v.BrowserID
	v.Browsers = len(s.sandbox.Browsers())
	if you == "" {
		return
	}
	calls := s.sandbox.Calls()
	for i := len(calls) - 1; i >= 0 && len(v.SandboxCalls) < maxDebugRows; i-- {
		c := calls[i]
		if c.Request.BrowserID != you {
			continue
		}
		row := views.SandboxCallRow{
			Time:       clock(c.Time),
			FriendlyID: c.FriendlyID,
			Visitor:    short(c.Request.BrowserID),
			Campaign:   c.Request.UTM("campaign"),
			Fault:      c.Fault,
			Response:   excerpt(c.Response, 90),
			Yours:      true,
		}
		if c.Status != 0 {
			row.Status = strconv.Itoa(c.Status)
		} else {
			row.Status = "no answer"
		}
		if c.Code != "" {
			row.Status += " " + c.Code
		}
		v.SandboxCalls = append(v.SandboxCalls, row)
	}
	events := s.sandbox.Events()
	for i := len(events) - 1; i >= 0 && len(v.Events) < maxDebugRows; i-- {
		e := events[i]
		if e.BrowserID != you {
			continue
		}
		page, _ := e.Body["page"].(string)
		v.Events = append(v.Events, views.EventRow{
			Time: clock(e.Time), Type: e.Type, Page: page, Visitor: short(e.BrowserID),
			Detail: eventDetail(e), Yours: true,
		})
	}
	clicks := s.sandbox.Clicks()
	for i := len(clicks) - 1; i >= 0 && len(v.Clicks) < maxDebugRows; i-- {
		c := clicks[i]
		if c.BrowserID != you {
			continue
		}
		v.Clicks = append(v.Clicks, views.ClickRow{
			Time: clock(c.Time), FriendlyID: c.FriendlyID, Offer: c.OfferName, Destination: c.Destination,
			Visitor: short(c.BrowserID), Yours: true,
		})
	}
}

// eventDetail summarises an event's data for the debug page: its ext attributes and an
// identity's providers. Identifier values, email addresses and names are left out, though
// the page lists only the visitor's own events: the page may be shown on a shared screen.
func eventDetail(e sandbox.EventRecord) string {
	var parts []string
	if ext, ok := e.Body["ext"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(ext)) {
			if v, ok := scalarText(ext[k]); ok {
				parts = append(parts, k+"="+v)
			}
		}
	}
	if ids, ok := e.Body["identifiers"].([]any); ok {
		for _, id := range ids {
			if m, ok := id.(map[string]any); ok {
				if p, ok := m["provider"].(string); ok {
					parts = append(parts, "identifier of "+p)
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.Body)) {
		if strings.HasPrefix(k, "utm_") {
			if v, ok := scalarText(e.Body[k]); ok {
				parts = append(parts, k+"="+v)
			}
		}
	}
	return excerptText(strings.Join(parts, ", "), 90)
}

// scalarText is a string, number or boolean as text.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func sortedKVs(m map[string]string) []views.KV {
	out := make([]views.KV, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, views.KV{Key: k, Value: m[k]})
	}
	return out
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("15:04:05.000")
}

func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	default:
		return d.Round(100 * time.Microsecond).String()
	}
}

// short shortens a browser ID for tables: its first 8 characters.
func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

func excerpt(b []byte, n int) string {
	var compact bytes.Buffer
	if json.Compact(&compact, b) == nil {
		b = compact.Bytes()
	}
	return excerptText(string(b), n)
}

// excerptText cuts s to n bytes (on a rune boundary) with an ellipsis.
func excerptText(s string, n int) string {
	if len(s) > n {
		// cut on a rune boundary
		for n > 0 && !utf8RuneStart(s[n]) {
			n--
		}
		return s[:n] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
