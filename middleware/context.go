package middleware

import (
	"context"
	"maps"
)

// ctxKey finds the middleware's state for the request in its context.
type ctxKey struct{}

// Value answers ctxKey with the request's state and every other key from the parent.
func (st *request) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return st
	}
	return st.Context.Value(key)
}

func fromContext(ctx context.Context) *request {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(ctxKey{}).(*request)
	return st
}

// BrowserID returns the visitor's browser ID: the one its cookie brought, or the one created
// for this request once a flow needed it. It is "" when there is none (yet), when the visitor
// is not personalized (no consent, bot, prefetch), or outside the middleware.
func BrowserID(ctx context.Context) string {
	st := fromContext(ctx)
	if st == nil {
		return ""
	}
	id := st.currentID()
	if id == "" || st.blocked() != NotBlocked {
		return ""
	}
	return id
}

// UTM returns this request's UTM parameters, keys without the utm_ prefix ("campaign"), or nil.
// The map is the caller's own.
func UTM(ctx context.Context) map[string]string {
	st := fromContext(ctx)
	if st == nil {
		return nil
	}
	return maps.Clone(st.reqUTM)
}

// VisitCampaign returns the visit's campaign: this request's UTM parameters if it has any,
// else the last set seen in the visit, and the visit's landing referrer. It reads the session
// (once per request). For a visitor who is not personalized (no consent, bot, prefetch) it
// holds this request's UTM parameters only: their session is neither read nor written.
func VisitCampaign(ctx context.Context) Campaign {
	st := fromContext(ctx)
	if st == nil {
		return Campaign{}
	}
	if st.blocked() != NotBlocked {
		return Campaign{UTM: maps.Clone(st.reqUTM)}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.loadSession()
	return Campaign{UTM: maps.Clone(st.campaign.UTM), LandingReferrer: st.campaign.LandingReferrer}
}

// Blocked returns why the request gets no personalization (BlockedNoConsent, BlockedBot,
// BlockedPrefetch), or NotBlocked when it may be personalized or is outside the middleware.
// Like the flows, it decides only when asked: the consent and bot checks run at most once per
// request.
func Blocked(ctx context.Context) BlockReason {
	st := fromContext(ctx)
	if st == nil {
		return NotBlocked
	}
	return st.blocked()
}
