package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Answers chooses how the sandbox answers the requests whose answer Sitecore's documentation
// leaves open: an unknown flow, an unknown client key, a missing or unknown point of sale, an
// invalid language, channel or date, and the others of the table "Assumptions" in the package
// documentation. The zero value is AnswerStrict.
type Answers uint8

const (
	// AnswerStrict refuses such a request with an error object: 400, 401 or 404 as the table
	// says. It is the default.
	AnswerStrict Answers = iota
	// AnswerLenient answers such a request as a forgiving API would: a flow call gets
	// 200 {} (no personalization) and an event 201, but the event is dropped (DroppedEvents),
	// as the API documents for an event with an unknown point of sale. The request is
	// recorded with the code it would have been refused with (CallRecord.Code,
	// EventRecord.Dropped), so a test can still see the client's mistake.
	AnswerLenient
)

// String returns "strict" or "lenient".
func (a Answers) String() string {
	switch a {
	case AnswerStrict:
		return "strict"
	case AnswerLenient:
		return "lenient"
	}
	return fmt.Sprintf("Answers(%d)", uint8(a))
}

// WithUndocumentedAnswers sets how the sandbox answers what the documentation leaves open
// (default AnswerStrict). A library's tests can run against both, so that they pass whichever
// way a tenant answers. It panics on an unknown value.
func WithUndocumentedAnswers(a Answers) Option {
	if a != AnswerStrict && a != AnswerLenient {
		panic(fmt.Sprintf("sandbox: WithUndocumentedAnswers: unknown value %d", uint8(a)))
	}
	return func(s *Sandbox) { s.answers = a }
}

// WithPointsOfSale declares the tenant's points of sale. A flow call whose pointOfSale is not
// one of them is refused (400 UNKNOWN_POINT_OF_SALE; with AnswerLenient, 200 {}), and an event
// whose pos is not one of them is answered 201 but dropped, as the real API documents
// (DroppedEvents). Names are matched exactly (with AnswerLenient, without regard to case).
// Without WithPointsOfSale any non-empty point of sale is known. It panics without a
// non-empty name.
func WithPointsOfSale(names ...string) Option {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			m[n] = true
		}
	}
	if len(m) == 0 {
		panic("sandbox: WithPointsOfSale needs at least one non-empty name")
	}
	return func(s *Sandbox) { s.pointsOfSale = m }
}

// knownPointOfSale reports whether pos (non-empty) is a point of sale of the tenant.
func (s *Sandbox) knownPointOfSale(pos string) bool {
	if s.pointsOfSale == nil || s.pointsOfSale[pos] {
		return true
	}
	if s.answers == AnswerLenient {
		for name := range s.pointsOfSale {
			if strings.EqualFold(name, pos) {
				return true
			}
		}
	}
	return false
}

func unknownPointOfSale(field, pos string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeUnknownPointOfSale, "Bad Request",
		fmt.Sprintf("sandbox: %s %q is not a point of sale of this tenant (WithPointsOfSale)", field, truncate(pos, 80)))
}

// channels are the channels the documentation lists ("Must be one of"), upper-case.
var channels = map[string]bool{
	"AIRPORT_KIOSK": true, "BRANCH": true, "CALL_CENTER": true, "EMAIL": true, "GDS": true,
	"KIOSK": true, "MOBILE_APP": true, "MOBILE_WEB": true, "SMS": true, "OFFLINE": true,
	"OTA": true, "OTHER": true, "WEB": true,
}

// checkChannel refuses a channel that is not one of the documented ones, exactly.
func checkChannel(field, ch string) *apiError {
	if channels[ch] {
		return nil
	}
	return newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
		fmt.Sprintf("sandbox: %s %q is not one of the documented channels (upper-case: WEB, MOBILE_APP, ...)", field, truncate(ch, 40)))
}

// iso639_1 holds the two-letter ISO 639-1 language codes, lower-case, space-separated.
const iso639_1 = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv " +
	"cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht " +
	"hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la " +
	"lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj " +
	"om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv " +
	"sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"

var languages = func() map[string]bool {
	m := make(map[string]bool, 200)
	for _, code := range strings.Fields(iso639_1) {
		m[code] = true
	}
	return m
}()

// checkLanguage refuses a language that is not a two-letter ISO 639-1 code. Case does not
// matter: the documentation says upper-case and its examples use lower case.
func checkLanguage(field, lang string) *apiError {
	if len(lang) == 2 && languages[strings.ToLower(lang)] {
		return nil
	}
	return newAPIError(http.StatusBadRequest, CodeInvalidField, "Bad Request",
		fmt.Sprintf("sandbox: %s %q is not a two-letter ISO 639-1 language code (EN, FR, ...)", field, truncate(lang, 40)))
}

// shortDateLayout is the form of an IDENTITY event's dob and of its identifiers' expiry_date:
// YYYY-MM-DDThh:mm, as both official SDKs require before sending (IV-0002, IV-0004).
const shortDateLayout = "2006-01-02T15:04"

// shortDate reports whether s is a date in shortDateLayout, as the SDKs' isShortISODateString
// accepts it: s must be exactly what new Date(s+"Z").toISOString() starts with, so
// "1990-05-17T00:00" is one and "1990-05-17", "1990-05-17T00:00:00Z", "1990-02-30T00:00" and
// "1990-05-17T24:00" are not.
func shortDate(s string) bool {
	if len(s) != len(shortDateLayout) {
		return false
	}
	t, err := time.Parse(shortDateLayout, s)
	return err == nil && t.Format(shortDateLayout) == s
}

func invalidDate(field string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeInvalidDate, "Bad Request",
		fmt.Sprintf("sandbox: %s must be a date in the form YYYY-MM-DDThh:mm, as the SDKs send it (IV-0002, IV-0004)", field))
}

// identityStrings are the documented string fields of an IDENTITY event besides dob.
var identityStrings = [...]string{"email", "title", "firstname", "lastname", "gender", "mobile",
	"phone", "city", "state", "country", "postal_code"}

// checkIdentityFields checks the guest fields of an IDENTITY event: dob and every identifier's
// expiry_date in shortDateLayout, street an array of strings, the others strings (a field that
// is absent or null is not checked).
func checkIdentityFields(body map[string]any) *apiError {
	if v, ok := body["dob"]; ok && v != nil {
		if s, ok := v.(string); !ok || !shortDate(s) {
			return invalidDate("dob")
		}
	}
	list, _ := body["identifiers"].([]any) // checked by checkIdentifiers
	for i, item := range list {
		obj, _ := item.(map[string]any)
		if v, ok := obj["expiry_date"]; ok && v != nil {
			if s, ok := v.(string); !ok || !shortDate(s) {
				return invalidDate(fmt.Sprintf("identifiers[%d].expiry_date", i))
			}
		}
	}
	if v, ok := body["street"]; ok && v != nil {
		lines, ok := v.([]any)
		if !ok {
			return invalidField("street", `an array of strings (["Tara Street"])`)
		}
		for _, l := range lines {
			if _, ok := l.(string); !ok {
				return invalidField("street", `an array of strings (["Tara Street"])`)
			}
		}
	}
	for _, name := range identityStrings {
		if v, ok := body[name]; ok && v != nil {
			if _, ok := v.(string); !ok {
				return invalidField(name, "a string")
			}
		}
	}
	return nil
}

// verdict gathers the problems of a request whose answer is undocumented. With AnswerStrict
// the first one refuses the request; with AnswerLenient it is noted and checking goes on, so
// that a documented refusal (an unknown browser's 404) still wins.
type verdict struct {
	lenient bool
	noted   *apiError // the first problem, with AnswerLenient
}

// undocumented returns the error to refuse the request with now (AnswerStrict), or notes it and
// returns nil (AnswerLenient).
func (v *verdict) undocumented(e *apiError) *apiError {
	if e == nil {
		return nil
	}
	if !v.lenient {
		return e
	}
	if v.noted == nil {
		v.noted = e
	}
	return nil
}
