package personalize

import "testing"

// destinationsAnswer is what the example site's recommended_destinations flow answers: three
// offers of seven fields, with non-ASCII text and a tracking URL of some 250 bytes of base64.
const destinationsAnswer = `[
        {"Name": "Lisbon", "description": "Pastéis de nata, yellow trams and sunsets over the Tagus.", "price": "from €59", "duration": "2 h 50", "imageUrl": "/static/img/lisbon.svg", "trackingUrl": "http://personalize.test/v3/trackers/eyJjaGFubmVsIjoiV0VCIiwiY2xpZW50S2V5IjoidGVuYW50LWNsaWVudC1rZXkiLCJicm93c2VySWQiOiJhMzhiMjMwYy0xMWViLTRjZjktOGQ1ZC0yNzRlOWYzNDQ5MjUiLCJmcmllbmRseUlkIjoicmVjb21tZW5kZWRfZGVzdGluYXRpb25zIiwib2ZmZXIiOiJMaXNib24iLCJkZXN0aW5hdGlvbiI6Ii9ib29raW5nP3RvPWxpc2JvbiJ9", "destination": "/booking?to=lisbon"},
        {"Name": "Barcelona", "description": "Gaudí by day, tapas by night, the beach in between.", "price": "from €64", "duration": "2 h 15", "imageUrl": "/static/img/barcelona.svg", "trackingUrl": "http://personalize.test/v3/trackers/eyJjaGFubmVsIjoiV0VCIiwiY2xpZW50S2V5IjoidGVuYW50LWNsaWVudC1rZXkiLCJicm93c2VySWQiOiJhMzhiMjMwYy0xMWViLTRjZjktOGQ1ZC0yNzRlOWYzNDQ5MjUiLCJmcmllbmRseUlkIjoicmVjb21tZW5kZWRfZGVzdGluYXRpb25zIiwib2ZmZXIiOiJCYXJjZWxvbmEiLCJkZXN0aW5hdGlvbiI6Ii9ib29raW5nP3RvPWJhcmNlbG9uYSJ9", "destination": "/booking?to=barcelona"},
        {"Name": "Copenhagen", "description": "Harbour swims, cinnamon buns and bikes everywhere.", "price": "from €49", "duration": "1 h 20", "imageUrl": "/static/img/copenhagen.svg", "trackingUrl": "http://personalize.test/v3/trackers/eyJjaGFubmVsIjoiV0VCIiwiY2xpZW50S2V5IjoidGVuYW50LWNsaWVudC1rZXkiLCJicm93c2VySWQiOiJhMzhiMjMwYy0xMWViLTRjZjktOGQ1ZC0yNzRlOWYzNDQ5MjUiLCJmcmllbmRseUlkIjoicmVjb21tZW5kZWRfZGVzdGluYXRpb25zIiwib2ZmZXIiOiJDb3BlbmhhZ2VuIiwiZGVzdGluYXRpb24iOiIvYm9va2luZz90bz1jb3BlbmhhZ2VuIn0", "destination": "/booking?to=copenhagen"}
      ]`

// offerTextKeys are the fields a destination card reads besides the well-known ones: two as
// sent, one in another case, one the offers do not have.
var offerTextKeys = [...]string{"price", "duration", "name", "theme"}

// BenchmarkOfferText reads four fields of each offer of destinationsAnswer with Text, as the
// example site's cards do: "text" on offers already read, "page" as a page does it, checking
// the answer (checkFlowBody) and reading its offers first.
func BenchmarkOfferText(b *testing.B) {
	raw := []byte(destinationsAnswer)
	read := func(b *testing.B) []Offer {
		tree, err := checkFlowBody(200, raw)
		if err != nil {
			b.Fatal(err)
		}
		offers := (&Result{Raw: raw, tree: tree}).Offers()
		if len(offers) != 3 {
			b.Fatal("offers")
		}
		return offers
	}
	text := func(b *testing.B, offers []Offer) {
		for _, o := range offers {
			for _, k := range offerTextKeys {
				if o.Text(k) == "" && k != "theme" {
					b.Fatal(k)
				}
			}
		}
	}
	b.Run("text", func(b *testing.B) {
		offers := read(b)
		b.ReportAllocs()
		for b.Loop() {
			text(b, offers)
		}
	})
	b.Run("page", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			text(b, read(b))
		}
	})
}
