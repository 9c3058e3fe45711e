package middleware

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/go-personalize/sdk/internal/browserid"
)

// newBrowserID makes a browser ID with the configured strategy; Sitecore's Edge proxy also
// names the new browser's guest.
func (m *Middleware) newBrowserID(ctx context.Context) (id, guestRef string, err error) {
	if m.cfg.strategy == MintLocally {
		id, err := uuid.NewRandom()
		if err != nil {
			return "", "", fmt.Errorf("middleware: minting a browser ID: %w", err)
		}
		return id.String(), "", nil
	}
	return m.client.CreateBrowser(ctx)
}

// ensureBrowserID is the page's Visitor.EnsureBrowserID: the page calls it when a flow needs
// a browser ID and the request brought none. However many flows and the header writer ask at
// once, one ID is made.
func (st *request) ensureBrowserID(ctx context.Context) (id, guestRef string, err error) {
	id, err = st.obtainID(ctx)
	st.mu.Lock()
	guestRef = st.newGuest
	st.mu.Unlock()
	return id, guestRef, err
}

// browserIDForHeaders gets the ID for the cookie when a flow ran but no valid cookie came in:
// it waits for a creation in flight, or makes the ID now, within the page's budget.
func (st *request) browserIDForHeaders() (string, error) {
	ctx, cancel := context.WithTimeout(st.Context, st.m.client.Budget())
	defer cancel()
	return st.obtainID(ctx)
}

func (st *request) obtainID(ctx context.Context) (string, error) {
	st.idBegun.Store(true)
	st.idOnce.Do(func() {
		id, guest, err := st.m.newBrowserID(ctx)
		if err == nil && !browserid.Valid(id) {
			id, err = "", fmt.Errorf("middleware: new browser ID %q is not well-formed", id)
		}
		if err != nil || !browserid.ValidGuestRef(guest) {
			guest = ""
		}
		st.mu.Lock()
		st.newID, st.newGuest, st.idErr = id, guest, err
		late := st.headersOut
		st.mu.Unlock()
		if err == nil && late {
			st.lateCookie("new browser ID cookie")
		}
	})
	return st.newID, st.idErr
}

// idStarted reports whether this request began to get a browser ID.
func (st *request) idStarted() bool { return st.idBegun.Load() }

// currentID is the visitor's browser ID as far as this request knows it.
func (st *request) currentID() string {
	if st.cookieID != "" {
		return st.cookieID
	}
	return st.createdID()
}

// createdID is the ID created for this request, or "".
func (st *request) createdID() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.newID
}
