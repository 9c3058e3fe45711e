package views

import (
	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// BookingView is the booking page: the trip and the ancillary offers.
type BookingView struct {
	Meta
	Trip Trip
	// Added is the extra the visitor just added (through an offer's link), if any.
	Added *Extra
}

// Trip is the flight being booked.
type Trip struct {
	From, FromCode string
	To, ToCode     string
	Slug           string
	Date           string
	Departs        string
	Arrives        string
	Price          string
	// FareNote explains a campaign fare ("Summer sale fare: 30% off"), "" for a standard one.
	FareNote string
}

// Extra is something added to the trip.
type Extra struct {
	Key, Label string
}

// Message is the note shown when the extra was added.
func (e Extra) Message() string { return e.Label + " added to your trip" }

// destination is a city the site flies to.
type destination struct {
	name, code, price, departs, arrives string
}

// destinationOf returns a known destination by slug; unknown slugs get Lisbon.
func destinationOf(slug string) (string, destination) {
	switch slug {
	case "barcelona":
		return slug, destination{"Barcelona", "BCN", "€64", "09:40", "11:55"}
	case "copenhagen":
		return slug, destination{"Copenhagen", "CPH", "€49", "07:15", "08:35"}
	case "nice":
		return slug, destination{"Nice", "NCE", "€59", "10:05", "12:00"}
	case "split":
		return slug, destination{"Split", "SPU", "€64", "13:30", "15:50"}
	case "malaga":
		return slug, destination{"Málaga", "AGP", "€56", "06:50", "09:50"}
	}
	return "lisbon", destination{"Lisbon", "LIS", "€59", "08:20", "10:10"}
}

// NewTrip makes the trip to a destination slug with a fare ("summer", "subscriber", "member"
// or "").
func NewTrip(slug, fare string) Trip {
	slug, d := destinationOf(slug)
	t := Trip{
		From: "Amsterdam", FromCode: "AMS",
		To: d.name, ToCode: d.code, Slug: slug,
		Date: "Friday 12 June", Departs: d.departs, Arrives: d.arrives, Price: d.price,
	}
	switch fare {
	case "summer":
		t.FareNote = "Summer sale fare: 30% off"
	case "subscriber":
		t.FareNote = "Subscriber fare: 10% off with INBOX10"
	case "member":
		t.FareNote = "Go Airways Club fare: 10% off for members"
	}
	return t
}

// ExtraOf returns the extra for an ancillary key (bundle, seat, bag, insurance), nil for any
// other value.
func ExtraOf(key string) *Extra {
	labels := map[string]string{
		"bundle":    "Comfort bundle",
		"seat":      "Seat",
		"bag":       "Checked bag",
		"insurance": "Travel insurance",
	}
	if l, ok := labels[key]; ok {
		return &Extra{Key: key, Label: l}
	}
	return nil
}

// Ancillary is one ancillary offer card.
type Ancillary struct {
	// Name is the offer's name ("Ancillary seat"), Title its headline ("Choose your seat").
	Name, Title, Description, Price, Image, Key string
	// Offer gives the card's link: its tracking URL, or its own URL.
	Offer personalize.Offer
}

func ancillaryOf(o personalize.Offer) Ancillary {
	return Ancillary{
		Name:        o.Name(),
		Title:       or(o.Text("title"), o.Name()),
		Description: o.Description(),
		Price:       o.Text("price"),
		Image:       o.ImageURL(),
		Key:         o.Text("key"),
		Offer:       o,
	}
}

// defaultAncillaries are the extras shown when Personalize gives no decision: the same four,
// linking straight to the booking page.
func defaultAncillaries() []personalize.Offer {
	return []personalize.Offer{
		personalize.NewOffer(map[string]any{"Name": "Ancillary bundle", "title": "Comfort bundle", "description": "Seat of your choice, a 23 kg bag and flexible dates, together.", "price": "€49", "imageURLForTesting": "/static/icons/bundle.svg", "key": "bundle", "url": "/booking?added=bundle"}),
		personalize.NewOffer(map[string]any{"Name": "Ancillary seat", "title": "Choose your seat", "description": "Window, aisle or extra legroom, picked before check-in opens.", "price": "from €9", "imageURLForTesting": "/static/icons/seat.svg", "key": "seat", "url": "/booking?added=seat"}),
		personalize.NewOffer(map[string]any{"Name": "Ancillary bag", "title": "Add a checked bag", "description": "23 kg in the hold, dropped off and picked up at the belt.", "price": "€25", "imageURLForTesting": "/static/icons/bag.svg", "key": "bag", "url": "/booking?added=bag"}),
		personalize.NewOffer(map[string]any{"Name": "Ancillary insurance", "title": "Travel insurance", "description": "Cancellation, medical costs and lost luggage, for the whole trip.", "price": "€14", "imageURLForTesting": "/static/icons/insurance.svg", "key": "insurance", "url": "/booking?added=insurance"}),
	}
}

func ancillaryList(offers []personalize.Offer) templ.Component {
	return components.OfferList(components.OfferListProps{
		Offers: offers,
		Label:  "Extras for your trip",
		Class:  "ancillaries",
		Card: func(o personalize.Offer, _ int) templ.Component {
			return ancillaryCard(ancillaryOf(o))
		},
	})
}

// ancillarySlot is the ancillary_offers slot.
func ancillarySlot(links Links) templ.Component {
	return components.Slot(components.SlotProps{
		FriendlyID: FlowAncillaries,
		TestID:     "slot-ancillaries",
		Decision: func(res *personalize.Result) templ.Component {
			offers := components.Showable(res.Offers())
			if len(offers) == 0 {
				return nil
			}
			return ancillaryList(links.All(offers))
		},
		Fallback: lazy(func() templ.Component { return ancillaryList(defaultAncillaries()) }),
	})
}
