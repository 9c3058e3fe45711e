package personalize

import "time"

// Event types the Stream API reserves. Any other upper-case name is a custom event.
const (
	// EventView is a page view: it carries the page, the referrer and the page's UTM
	// parameters.
	EventView = "VIEW"
	// EventIdentity links the browser to a known guest through identifiers.
	EventIdentity = "IDENTITY"
)

// MaxExtAttributes is how many attributes an event's ext may hold, as the Stream API allows.
const MaxExtAttributes = 50

// Limits of an event the Stream API does not state but the client keeps.
const (
	// maxEventSize caps an event's encoded JSON body, so that a queue of events stays small.
	maxEventSize = 64 << 10
	// maxEventTypeLen keeps a type readable in logs and dashboards.
	maxEventTypeLen = 100
)

// Event is one event of the Stream API (POST /v1.2/events), as Client.SendEvent sends it.
// Empty Channel, Language, Currency and PointOfSale take the client's defaults, and a zero
// RequestedAt the time the event is sent. An event is validated before anything is sent:
// errors wrap ErrInvalidRequest. The maps are read, never modified.
//
// Handlers do not build events: Track and Identify send them for the page's visitor, and the
// middleware sends page views.
type Event struct {
	// Type is VIEW, IDENTITY or a custom type of upper-case letters, digits and underscores
	// that starts with a letter (e.g. ADD_TO_CART).
	Type string
	// BrowserID is the browser the event belongs to. Required.
	BrowserID string
	// Page names the page the event happened on, e.g. the request's path. Required.
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
	Email     string
	FirstName string
	LastName  string
	Title     string
	Gender    string
	Mobile    string
	Phone     string
	// Street holds the street address lines, sent as an array as both SDKs send it.
	Street     []string
	City       string
	State      string
	Country    string
	PostalCode string
	// DateOfBirth is sent as "dob" when not zero: its date, in the SDKs' form
	// YYYY-MM-DDThh:mm with the time 00:00 (1983-04-15T00:00), in the time's own location so
	// that the day never shifts.
	DateOfBirth time.Time
}

// GuestIdentifier is one identifier of a guest, issued by a provider (e.g. your site's user
// ID with provider "my_site").
type GuestIdentifier struct {
	ID       string
	Provider string
	// Expiry, when not zero, is sent as expiry_date, in UTC to the minute in the SDKs' form
	// YYYY-MM-DDThh:mm (2027-12-31T23:59).
	Expiry time.Time
}
