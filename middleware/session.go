package middleware

import (
	"cmp"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/sessions"
)

// Keys of the session's values. Both hold strings, which every sessions.Store can serialize
// (gob, JSON) without type registration.
const (
	sessionUTM      = "utm"
	sessionReferrer = "landing_referrer"
	sessionSaved    = "saved" // Unix seconds of the last save
)

// visitRefreshes is how many times per visit timeout an unchanged session is saved again to
// slide its expiry: with the default 30 minutes, at most once a minute. Saving means
// encrypting and signing a cookie, which would otherwise be the largest cost of a personalized
// request; a visit may end up to a 30th of the timeout early.
const visitRefreshes = 30

// maxReferrerBytes caps the landing referrer kept in the session (cookies hold about 4 KB).
const maxReferrerBytes = 1024

// maxSessionBytes bounds the session's serialized values, so that the cookie gorilla's store
// makes of them (encrypted, signed, base64 twice: about 1.8 times as long, plus 60 bytes) stays
// under securecookie's 4096 bytes. A campaign too big for it keeps its most telling UTM
// parameters (campaign, source, medium, term, content, then the rest by name) and drops the
// others, then the landing referrer; it is never lost whole.
const maxSessionBytes = 2048

// Campaign is where the visit came from: the last non-empty set of UTM parameters seen in the
// visit (keys without the utm_ prefix) and the referrer of the visit's first personalized
// request, when that came from another site.
type Campaign struct {
	UTM             map[string]string
	LandingReferrer string
}

// loadSession decodes the visit's session, once, and merges this request into it: UTM
// parameters that arrived replace the visit's set, and a new visit records its referrer. A
// session that cannot be decoded (tampered, old keys, expired) starts a new visit. The caller
// holds st.mu.
//
// A visit with nothing to keep (no campaign, no referrer from another site) has no session:
// without a session cookie the store is not asked for one, and none is saved; a session
// cookie that holds nothing to keep (or cannot be decoded) is deleted.
func (st *request) loadSession() {
	if st.sessLoaded {
		return
	}
	st.sessLoaded = true
	m := st.m
	var (
		sess *sessions.Session
		err  error
	)
	hadCookie := hasCookie(st.r.Header, m.cfg.sessionName)
	if hadCookie {
		// New, not Get: the session is decoded once per request anyway, and Get would keep
		// gorilla/sessions' registry of decoded sessions in the request's context (a copy of
		// the request, a map and a session more per page).
		sess, err = m.cfg.store.New(st.r, m.cfg.sessionName)
		if err != nil {
			m.cfg.logger.LogAttrs(st.Context, slog.LevelDebug, "middleware: session not decoded, starting a new visit", slog.Any("error", err))
		}
	}
	if sess == nil {
		sess = sessions.NewSession(m.cfg.store, m.cfg.sessionName)
		sess.IsNew = true
	}
	if sess.Values == nil {
		sess.Values = make(map[any]any)
	}
	if err != nil {
		// Whatever a failed decode left behind is not trusted.
		clear(sess.Values)
		sess.IsNew = true
	}
	stored, _ := sess.Values[sessionUTM].(string)
	utm := parseUTM(stored)
	changed := sess.IsNew
	if len(st.reqUTM) > 0 {
		utm = st.reqUTM
		if enc := encodeUTM(utm); enc != stored {
			sess.Values[sessionUTM] = enc
			changed = true
		}
	}
	if sess.IsNew {
		if ref := landingReferrer(st.r); ref != "" {
			sess.Values[sessionReferrer] = ref
		}
	}
	ref, _ := sess.Values[sessionReferrer].(string)
	switch _, hasUTM := sess.Values[sessionUTM]; {
	case hasUTM || ref != "":
		saved, _ := sess.Values[sessionSaved].(string)
		last, err := strconv.ParseInt(saved, 10, 64)
		refresh := time.Duration(m.cfg.visitTimeout) * time.Second / visitRefreshes
		st.sessDirty = changed || err != nil || time.Since(time.Unix(last, 0)) >= refresh
	case hadCookie:
		st.sessDirty, st.sessDelete = true, true
	}
	if len(ref) > maxReferrerBytes {
		ref = ""
	}
	st.sess = sess
	st.campaign = Campaign{UTM: utm, LandingReferrer: ref}
}

// saveSession writes the session with the visit's sliding timeout, or deletes its cookie
// (sessDelete). The caller has made sure the response headers are not out yet, and that the
// session changed or is due for a refresh.
func (st *request) saveSession(w http.ResponseWriter) {
	m := st.m
	maxAge := m.cfg.visitTimeout
	if st.sessDelete {
		maxAge = -1
	} else {
		st.sess.Values[sessionSaved] = strconv.FormatInt(time.Now().Unix(), 10)
		fitSession(st.sess.Values)
	}
	st.sess.Options = &sessions.Options{
		Path:     "/",
		Domain:   m.cfg.domain,
		MaxAge:   maxAge,
		Secure:   m.secure(st.r),
		HttpOnly: true,
		SameSite: cmp.Or(m.cfg.sameSite, http.SameSiteLaxMode),
	}
	if err := st.sess.Save(st.r, w); err != nil {
		// The 1st, 2nd, 4th... failure: a broken store shows without a line per request.
		if n := m.saveFailures.Add(1); n&(n-1) == 0 {
			m.cfg.logger.LogAttrs(st.Context, slog.LevelWarn, "middleware: saving the visit's session failed",
				slog.Uint64("failures", n), slog.Any("error", err))
		}
	}
}

// landingReferrer returns the request's Referer when it names another site, else "".
func landingReferrer(r *http.Request) string {
	ref := r.Referer()
	if ref == "" || len(ref) > maxReferrerBytes {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	if strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	return ref
}

// fitSession drops UTM parameters, least telling first, and then the landing referrer, until
// the session's values fit maxSessionBytes (see there).
func fitSession(values map[any]any) {
	size := func() int { b, _ := stringCodec{}.Serialize(values); return len(b) }
	if size() <= maxSessionBytes {
		return
	}
	stored, _ := values[sessionUTM].(string)
	keys := utmPriority(parseUTM(stored))
	utm := parseUTM(stored)
	for len(keys) > 0 && size() > maxSessionBytes {
		delete(utm, keys[len(keys)-1])
		keys = keys[:len(keys)-1]
		values[sessionUTM] = encodeUTM(utm)
	}
	if size() > maxSessionBytes {
		delete(values, sessionReferrer)
	}
}
