package sandbox

import (
	"encoding/json"
	"net/http"
	"time"
)

// Record limits. The sandbox keeps the most recent records only, so a long soak test or a
// long-running example site cannot grow its memory without bound.
const (
	// MaxRecords is how many calls, events, clicks and created browser IDs are kept (each).
	MaxRecords = 10_000
	// MaxBrowsers is how many created browser IDs the sandbox knows; beyond it the oldest is
	// forgotten (events for it then answer 404, as for a browser it never created).
	MaxBrowsers = 100_000
	// MaxBrowserEvents is how many events per browser rules can see (Request.Events).
	MaxBrowserEvents = 100
	// MaxRecordedBody is how many bytes of a request or response body a record keeps; a
	// longer body is recorded as nil (its size is still recorded).
	MaxRecordedBody = 64 << 10
	// maxIdentities bounds the per-identity call counters.
	maxIdentities = 100_000
)

// CallRecord is one flow call, POST /v2/callFlows or the Edge's POST /v1/personalize, as the
// sandbox received and answered it. Rejected requests are recorded too, with their status and
// error code.
type CallRecord struct {
	// Time is when the request arrived.
	Time time.Time
	// Path is the endpoint called: PathCallFlows, or PathEdgePersonalize for a call through
	// the Sitecore Edge (whose context ID, site name, guestRef and variants are in Request).
	Path string
	// FriendlyID is the body's friendlyId ("" when it had none).
	FriendlyID string
	// Request is the decoded body, as far as it could be decoded, with CallCount and Events
	// as the flow's rules saw them.
	Request Request
	// Body is the raw request body as received (nil when over MaxRecordedBody).
	Body json.RawMessage
	// BodySize is the length of the request body.
	BodySize int
	// Header is a copy of the request's headers (e.g. User-Agent, X-Library-Version).
	Header http.Header
	// Status is the HTTP status answered; 0 when no answer was sent (a hang or a reset).
	Status int
	// Code is the error code of a rejected request: one the sandbox refused, or, with
	// AnswerLenient, one it would have refused and answered 200 {} instead (Status says
	// which). It is "" for a flow's answer.
	Code string
	// Response is the body answered (nil when none, or over MaxRecordedBody).
	Response json.RawMessage
	// ResponseSize is the length of the body answered.
	ResponseSize int
	// KnownBrowser reports whether the browserId was created by this sandbox (whether the
	// real API accepts others is an open question, so the sandbox accepts any UUID).
	KnownBrowser bool
	// Fault describes the fault applied, e.g. "latency=100ms status=503" ("" for none).
	Fault string
}

// EventRecord is one event the sandbox accepted (answered 201), sent with POST /v1.2/events,
// GET /v1.2/event/create.json or, through the Sitecore Edge, POST /v1/events/v1.2/events.
type EventRecord struct {
	// Time is when the event arrived.
	Time time.Time
	// Type is the event's type (VIEW, IDENTITY, a custom type...).
	Type string
	// BrowserID is the event's browser_id.
	BrowserID string
	// ClientKey is the client key as sent: the event's client_key, or the client_key
	// parameter of GET /v1.2/event/create.json ("" through the Edge).
	ClientKey string
	// ContextID and SiteName are the sitecoreContextId and siteId of an event sent through
	// the Edge ("" for the direct endpoints).
	ContextID string
	SiteName  string
	// Header is a copy of the request's headers (e.g. X-Library-Version, and the
	// X-Client-Software-ID the Cloud SDK sends with its events).
	Header http.Header
	// PageVariantID is a VIEW event's ext.pageVariantId, the page variant the visitor saw
	// (the Cloud SDK's page-view-event.ts), "" when it has none.
	PageVariantID string
	// Ref is the reference the sandbox answered.
	Ref string
	// Body is the decoded event (numbers as json.Number).
	Body map[string]any
	// Raw is the event as received.
	Raw json.RawMessage
	// Dropped is nil for an event the sandbox kept (Events). For one it answered 201 but
	// dropped (DroppedEvents) it says why, as the error object the sandbox would answer with
	// AnswerStrict: CodeUnknownPointOfSale for a pos not among WithPointsOfSale, else the
	// problem AnswerLenient let pass.
	Dropped *ErrorBody
}

// ClickRecord is one visit of a tracking link (GET /v3/trackers/{token}).
type ClickRecord struct {
	// Time is when the link was followed.
	Time time.Time
	// Token is the link's token.
	Token string
	// BrowserID, FriendlyID and OfferName come from the token.
	BrowserID  string
	FriendlyID string
	OfferName  string
	// Destination is where the visitor was sent ("/" when the offer's destination was
	// missing or unsafe).
	Destination string
	// Offer is the offer as the flow defined it, when the sandbox minted the link and still
	// remembers it (nil otherwise).
	Offer map[string]any
}

// capped returns a copy of b when it fits a record, else nil.
func capped(b []byte) json.RawMessage {
	if b == nil || len(b) > MaxRecordedBody {
		return nil
	}
	return append(json.RawMessage{}, b...)
}
