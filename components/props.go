package components

import "strings"

// Default texts and test IDs of the components.
const (
	// DefaultCTA is the text of an offer's call to action when its props give none.
	DefaultCTA = "View offer"
	// DefaultMaxItems is the most cards an OfferList renders when its MaxItems is zero.
	DefaultMaxItems = 24
	// TestIDSlot, TestIDOfferList, TestIDOfferCard, TestIDBanner and TestIDLink are the default
	// data-testid values of the components' root elements.
	TestIDSlot      = "personalize-slot"
	TestIDOfferList = "personalize-offers"
	TestIDOfferCard = "personalize-offer"
	TestIDBanner    = "personalize-banner"
	TestIDLink      = "personalize-link"
)

// classes joins the component's own class with the caller's extra classes.
func classes(base, extra string) string {
	extra = strings.TrimSpace(extra)
	if extra == "" {
		return base
	}
	return base + " " + extra
}
