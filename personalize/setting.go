package personalize

import (
	"fmt"
	"strings"
)

// Setting is one of the site's defaults that every flow call and event carries: its channel,
// language, currency or point of sale. Given to New it sets the client's default; given to
// Flow, Track or Identify it overrides the default for that call only. An invalid value is an
// error from New, or from the call (ErrInvalidRequest) before anything is sent.
type Setting struct {
	field settingField
	value string
}

type settingField uint8

const (
	settingChannel settingField = iota + 1
	settingLanguage
	settingCurrency
	settingPointOfSale
)

// WithChannel sets the channel (default DefaultChannel): upper-case letters and underscores,
// such as WEB or MOBILE_APP.
func WithChannel(channel string) Setting { return Setting{settingChannel, channel} }

// WithLanguage sets the language (default DefaultLanguage), an ISO 639 code such as "en".
func WithLanguage(lang string) Setting { return Setting{settingLanguage, lang} }

// WithCurrency sets the currency (default DefaultCurrency), an ISO 4217 code such as "EUR".
func WithCurrency(code string) Setting { return Setting{settingCurrency, code} }

// WithPointOfSale sets the point of sale, which must name one that exists in the tenant. Flow
// calls need one: without it, on the client or the call, they fail with ErrInvalidRequest
// before any network traffic, as Engage refuses to call (MV-0003).
func WithPointOfSale(pos string) Setting { return Setting{settingPointOfSale, pos} }

// problem says what is wrong with the setting's value, "" when nothing is.
func (s Setting) problem() string {
	switch s.field {
	case settingChannel:
		return channelProblem(s.value)
	case settingLanguage:
		return languageProblem(s.value)
	case settingCurrency:
		return currencyProblem(s.value)
	case settingPointOfSale:
		if strings.TrimSpace(s.value) == "" {
			return "empty point of sale"
		}
		return ""
	}
	return "a zero Setting: use WithChannel, WithLanguage, WithCurrency or WithPointOfSale"
}

func (s Setting) applyOption(c *config) error {
	if p := s.problem(); p != "" {
		return invalidConfigf("%s", p)
	}
	*s.target(&c.channel, &c.language, &c.currency, &c.pointOfSale) = s.value
	return nil
}

func (s Setting) applyFlow(r *FlowRequest) {
	if t := s.target(&r.Channel, &r.Language, &r.Currency, &r.PointOfSale); t != nil {
		*t = s.value
	}
}

func (s Setting) applyEvent(e *Event) {
	if t := s.target(&e.Channel, &e.Language, &e.Currency, &e.PointOfSale); t != nil {
		*t = s.value
	}
}

// target picks the field the setting sets among the four of a config, request or event.
func (s Setting) target(channel, language, currency, pos *string) *string {
	switch s.field {
	case settingChannel:
		return channel
	case settingLanguage:
		return language
	case settingCurrency:
		return currency
	case settingPointOfSale:
		return pos
	}
	return nil
}

// checkSettings validates the overrides of a request or an event (empty ones are the
// client's defaults); errors wrap ErrInvalidRequest.
func checkSettings(channel, language, currency, pos string) error {
	for _, s := range [...]Setting{{settingChannel, channel}, {settingLanguage, language}, {settingCurrency, currency}, {settingPointOfSale, pos}} {
		if s.value == "" {
			continue
		}
		if p := s.problem(); p != "" {
			return invalidf("%s", p)
		}
	}
	return nil
}

func channelProblem(ch string) string {
	ok := ch != ""
	for i := 0; ok && i < len(ch); i++ {
		ok = 'A' <= ch[i] && ch[i] <= 'Z' || ch[i] == '_'
	}
	if !ok {
		return fmt.Sprintf("channel %q must be upper-case letters and underscores (e.g. WEB)", truncate(ch))
	}
	return ""
}

func languageProblem(lang string) string {
	if len(lang) < 2 || len(lang) > 8 || !isLetters(lang[:2]) {
		return fmt.Sprintf("language %q is not an ISO 639 code (e.g. en)", truncate(lang))
	}
	return ""
}

func currencyProblem(code string) string {
	if len(code) != 3 || !isLetters(code) {
		return fmt.Sprintf("currency %q is not an ISO 4217 code (e.g. EUR)", truncate(code))
	}
	return ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i] | 0x20
		if b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}
