package components

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

// ownTestID is the props' data-testid when it is not the component's default one, else "":
// the components write the default as a static string.
func ownTestID(id, def string) string {
	if id == def {
		return ""
	}
	return id
}
