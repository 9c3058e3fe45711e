package views

import "strconv"

// DebugView is the /_personalize page: what the site knows of this visitor and what was
// called for it.
type DebugView struct {
	Meta
	// BrowserID is this visitor's browser ID ("" when none yet); CookieName its cookie.
	BrowserID, CookieName string
	// Blocked says why this request is not personalized ("bot", ...), "" when it is.
	Blocked string
	// RequestUTM are this request's UTM parameters; VisitUTM the visit's campaign.
	RequestUTM, VisitUTM []KV
	LandingReferrer      string
	// APIBase is the API the site's client calls.
	APIBase string
	// EventStats count the events the site's sender handled (both modes).
	EventStats EventStats
	// Flows are the friendly IDs the page can run on request; Ran is the result of the one
	// run for this page, if any.
	Flows []string
	Ran   *FlowRun
	// PageCalls are this page's flow calls.
	PageCalls []CallRow
	// Sandbox is true in sandbox mode, when the records below are available.
	Sandbox      bool
	SandboxCalls []SandboxCallRow
	Events       []EventRow
	Clicks       []ClickRow
	Browsers     int
}

// KV is one key and value.
type KV struct{ Key, Value string }

// FlowRun is a flow run from the debug page.
type FlowRun struct {
	FriendlyID, Outcome, Duration, Response, Error string
}

// CallRow is one flow call as the site's client saw it.
type CallRow struct {
	Time, FriendlyID, Outcome, Duration, Status, Error string
}

// SandboxCallRow is one call as the sandbox recorded it.
type SandboxCallRow struct {
	Time, FriendlyID, Visitor, Campaign, Status, Fault, Response string
	// Yours marks calls made for this visitor.
	Yours bool
}

// EventRow is one event the sandbox accepted: when, its type, the page it names, the browser
// (shortened) and a short summary of its data (ext attributes, an identity's providers).
type EventRow struct {
	Time, Type, Page, Visitor, Detail string
	Yours                             bool
}

// EventStats count what the site's event sender did.
type EventStats struct {
	Sent, Failed, Dropped uint64
	Queued                int
}

// ClickRow is one tracking link followed.
type ClickRow struct {
	Time, FriendlyID, Offer, Destination, Visitor string
	Yours                                         bool
}

// count says "1 browser" or "3 browsers".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
