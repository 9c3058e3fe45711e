package personalize

import (
	"errors"
	"time"
)

// Event types the Stream API reserves. Any other upper-case name is a custom event.
const (
	// EventView is a page view: it carries the page, the referrer and the page's UTM
	// parameters.
	EventView = "VIEW"
	// EventIdentity links the browser to a known guest through identifiers.
	EventIdentity = "IDENTITY"
)

// Limits of an event, checked before it is sent or queued.
const (
	// MaxExtAttributes is how many attributes an event's ext may hold, as the Stream API
	// allows.
	MaxExtAttributes = 50
	// MaxEventSize caps an event's encoded JSON body, so that a queue of events stays small.
	MaxEventSize = 64 << 10
	// maxEventTypeLen keeps a type readable in logs and dashboards.
	maxEventTypeLen = 100
)

// Errors of events and the Sender, usable with errors.Is.
var (
	// ErrQueueFull: the Sender's queue was full, so the event was dropped (and counted).
	ErrQueueFull = errors.New("personalize: event queue full")
	// ErrSenderClosed: the Sender was closed, so the event was not queued.
	ErrSenderClosed = errors.New("personalize: event sender closed")
	// ErrNoSender: Track, Identify or a page's SendView was used with a client that has no
	// Sender (see Client.SetSender).
	ErrNoSender = errors.New("personalize: no event sender")
)

// Event is one event of the Stream API (POST /v1.2/events). Build one with NewViewEvent,
// NewIdentityEvent or as a literal for a custom event; empty Channel, Language, Currency and
// PointOfSale take the client's defaults, and a zero RequestedAt the time the event is sent or
// queued. An event is validated before anything is sent: errors wrap ErrInvalidRequest.
//
// The maps are read, never modified; a Sender encodes the event when it is queued, so they may
// be reused as soon as Enqueue returns.
type Event struct {
	// Type is VIEW, IDENTITY or a custom type of upper-case letters, digits and underscores
	// that starts with a letter (e.g. ADD_TO_CART).
	Type string
	// BrowserID is the browser the event belongs to; a page's helpers fill it in.
	BrowserID string
	// Page names the page the event happened on, e.g. the request's path. Required for VIEW.
	Page string
	// Channel, Language, Currency and PointOfSale override the client's defaults.
	Channel     string
	Language    string
	Currency    string
	PointOfSale string
	// RequestedAt is when the event happened; zero means now.
	RequestedAt time.Time
	// Referrer is the page the visitor came from (sent as "referrer").
	Referrer string
	// UTM holds UTM parameters, keys without the "utm_" prefix; each is sent as a top-level
	// "utm_<key>" field, as page views carry them. Keys are lower-cased; keys that are not
	// made of letters, digits and underscores are left out (they come from visitors' URLs).
	UTM map[string]string
	// Guest is what an IDENTITY event says about the visitor; only IDENTITY events carry it,
	// and they must.
	Guest *Guest
	// Ext is the event's extension data: at most 50 attributes whose names are alphanumeric
	// camelCase (e.g. "productSku") and whose values are strings, booleans or numbers. This
	// is where Personalize conditions and goals read custom data.
	Ext map[string]any
	// Data holds other top-level fields of the event. A key may not replace a field the
	// package writes (type, browser_id, page, ext, utm_*...).
	Data map[string]any
}

// Guest is what an IDENTITY event tells Personalize about the visitor. No value of it is ever
// logged or put into an error.
type Guest struct {
	// Identifiers are the guest's identifiers; at least one is required.
	Identifiers []GuestIdentifier
	// Optional profile fields, sent only when set.
	Email      string
	FirstName  string
	LastName   string
	Title      string
	Gender     string
	Mobile     string
	Phone      string
	City       string
	Country    string
	PostalCode string
	// DateOfBirth is sent as "dob" in YYYY-MM-DD form when not zero.
	DateOfBirth time.Time
}

// GuestIdentifier is one identifier of a guest, issued by a provider (e.g. your site's user
// ID with provider "my_site").
type GuestIdentifier struct {
	ID       string
	Provider string
	// Expiry, when not zero, is sent as expiry_date.
	Expiry time.Time
}

// NewViewEvent is a page view of page (e.g. the request's path) with the referrer and the
// page's UTM parameters (keys without the "utm_" prefix), for the browser filled in later by
// a page or set in BrowserID.
func NewViewEvent(page, referrer string, utm map[string]string) Event {
	return Event{Type: EventView, Page: page, Referrer: referrer, UTM: utm}
}

// NewIdentityEvent is an IDENTITY event for the guest. The guest's identifiers are copied.
func NewIdentityEvent(g Guest) Event {
	g.Identifiers = append([]GuestIdentifier(nil), g.Identifiers...)
	return Event{Type: EventIdentity, Guest: &g}
}

// EventOption changes an event built by a helper (Track, Identify, SendView).
type EventOption func(*Event)

// EventPage sets the page the event happened on (e.g. the request's path).
func EventPage(page string) EventOption { return func(e *Event) { e.Page = page } }

// EventData adds top-level fields to the event (see Event.Data).
func EventData(data map[string]any) EventOption { return func(e *Event) { e.Data = data } }

// EventExt sets the event's extension data (see Event.Ext).
func EventExt(ext map[string]any) EventOption { return func(e *Event) { e.Ext = ext } }

// EventLanguage, EventCurrency, EventPointOfSale and EventChannel override the defaults for
// one event.
func EventLanguage(lang string) EventOption   { return func(e *Event) { e.Language = lang } }
func EventCurrency(code string) EventOption   { return func(e *Event) { e.Currency = code } }
func EventPointOfSale(pos string) EventOption { return func(e *Event) { e.PointOfSale = pos } }
func EventChannel(ch string) EventOption      { return func(e *Event) { e.Channel = ch } }
