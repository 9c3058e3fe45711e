package middleware

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-personalize/sdk/personalize"
)

// sendView queues a VIEW event for the request when Options.SendViewEvents covers it; see
// there. It runs in beforeHeaders, once, when the status and Content-Type are known; id is the
// browser ID the headers carry ("" when the cookie is not renewed). The cheap checks come
// first, so a request that is no page view costs nothing more.
func (st *request) sendView(h http.Header, id string) {
	r := st.r
	if r.Method != http.MethodGet || r.URL == nil || r.URL.Path == "" {
		return
	}
	status := cmp.Or(st.w.status, http.StatusOK) // 0: the body starts, or the handler wrote nothing
	if status < 200 || status > 299 || !isHTML(h.Get("Content-Type"), st.w.first) {
		return
	}
	id = cmp.Or(id, st.cookieID) // no flow renewed it: the cookie's, if any
	if id == "" || st.blocked() != NotBlocked {
		return // never create a browser just for a view
	}
	// Queueing never blocks. A full queue or a closed client is counted and logged by the
	// client's event queue itself.
	// Both SDKs send a referrer only when it is another site's, and only on the visit's first
	// page: a same-site Referer, or one on a later page, says nothing about where the visit
	// came from.
	ref := ""
	if st.firstPageOfVisit() {
		ref = landingReferrer(r)
	}
	variant := ""
	if p := st.currentPage(); p != nil {
		variant = p.PageVariant()
	}
	err := st.m.client.QueueView(st.Context, id, r.URL.Path, ref, st.reqUTM, variant)
	if err != nil && !errors.Is(err, personalize.ErrQueueFull) && !errors.Is(err, personalize.ErrClosed) {
		st.m.cfg.logger.LogAttrs(st.Context, slog.LevelDebug, "middleware: VIEW event not queued",
			slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}

// isHTML reports whether a response is an HTML page: its Content-Type is text/html, or, when
// the handler set none, net/http would sniff the body's first bytes as HTML.
func isHTML(contentType string, first []byte) bool {
	if contentType == "" {
		if len(first) == 0 {
			return false
		}
		contentType = http.DetectContentType(first)
	}
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/html")
}

// firstPageOfVisit reports whether the request starts a visit: its session was new when
// loaded, or, when no flow loaded it, the request brought no session cookie.
func (st *request) firstPageOfVisit() bool {
	st.mu.Lock()
	loaded, sess := st.sessLoaded, st.sess
	st.mu.Unlock()
	if loaded && sess != nil {
		return sess.IsNew
	}
	return !hasCookie(st.r.Header, st.m.cfg.sessionName)
}
