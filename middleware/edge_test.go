package middleware

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// The Cloud SDK's cookies (CloudSDKCookies) through the Edge proxy: sc_cid for the browser ID,
// sc_cid_personalize for the guest ref, both set as the SDK sets them, with its legacy
// sc_<contextId> names moved.

// edgeSite is newSite over the sandbox's Edge endpoints, whatever the run's transport.
func edgeSite(t *testing.T, opts Options, clientOpts ...personalize.Option) *site {
	t.Helper()
	t.Setenv(personalizetest.TransportEnv, personalize.TransportEdge)
	return newSite(t, opts, clientOpts...)
}

// guestOfCalls lists the guestRef each flow call sent.
func guestOfCalls(s *site) []string {
	var refs []string
	for _, c := range s.sb.Calls() {
		refs = append(refs, c.Request.GuestRef)
	}
	return refs
}

func TestANewVisitorGetsBothCloudSDKCookies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := edgeSite(t, Options{Secure: SecureAlways})
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/flow")
		require.Empty(t, rep.Errors)
		bids := setCookies(t, resp, CloudSDKBrowserCookie)
		require.Len(t, bids, 1)
		assert.Equal(t, rep.BrowserID, bids[0].Value)
		guests := setCookies(t, resp, CloudSDKGuestCookie)
		require.Len(t, guests, 1, "the guest ref create.json gave the new browser")
		assert.Equal(t, s.sb.GuestRef(rep.BrowserID), guests[0].Value)
		for _, c := range []*http.Cookie{bids[0], guests[0]} {
			assert.Equal(t, "/", c.Path)
			assert.Equal(t, int(DefaultCookieMaxAge.Seconds()), c.MaxAge)
			assert.True(t, c.Secure)
			assert.Equal(t, http.SameSiteNoneMode, c.SameSite, "as the Cloud SDK sets them")
		}
		assert.Empty(t, setCookies(t, resp, CookiePrefix+sandbox.DefaultClientKey), "no Engage cookie")
		assert.Equal(t, []string{guests[0].Value}, guestOfCalls(s), "the flow sent the new guest ref")

		// The next page sends it from the cookie and renews both (the jar keeps Secure cookies
		// for https only: the visitor sends them as a browser would).
		v = newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, bids[0].Value)
		v.setCookie(CloudSDKGuestCookie, guests[0].Value)
		resp, _ = v.get(s.h, "/flow?f=other")
		assert.Len(t, setCookies(t, resp, CloudSDKGuestCookie), 1)
		assert.Equal(t, []string{guests[0].Value, guests[0].Value}, guestOfCalls(s))
	})
}

func TestAReturningVisitorWithoutAGuestCookieGetsOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := edgeSite(t, Options{})
		id := s.knownBrowser(t) // the Cloud SDK in the browser made it: sc_cid only
		v := newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, id)
		resp, rep := v.get(s.h, "/parallel?f=a&f=b&f=c")
		require.Empty(t, rep.Errors)
		want := s.sb.GuestRef(id)
		require.NotEmpty(t, want)
		assert.Equal(t, []string{want, want, want}, guestOfCalls(s), "looked up once, sent by every flow")
		guests := setCookies(t, resp, CloudSDKGuestCookie)
		require.Len(t, guests, 1)
		assert.Equal(t, want, guests[0].Value)
	})
}

func TestCloudSDKLegacyCookiesAreMoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := edgeSite(t, Options{})
		id := s.knownBrowser(t)
		guest := s.sb.GuestRef(id)
		v := newVisitor(t)
		v.setCookie("sc_"+sandbox.DefaultContextID, id)
		v.setCookie("sc_"+sandbox.DefaultContextID+"_personalize", guest)
		resp, rep := v.get(s.h, "/flow")
		require.Empty(t, rep.Errors)
		assert.Equal(t, id, rep.BrowserID, "the legacy cookie's browser")
		assert.Equal(t, []string{guest}, guestOfCalls(s), "and guest ref, with no look-up")
		require.Len(t, setCookies(t, resp, CloudSDKBrowserCookie), 1)
		require.Len(t, setCookies(t, resp, CloudSDKGuestCookie), 1)
		for _, legacy := range []string{"sc_" + sandbox.DefaultContextID, "sc_" + sandbox.DefaultContextID + "_personalize"} {
			old := setCookies(t, resp, legacy)
			require.Len(t, old, 1, legacy)
			assert.Negative(t, old[0].MaxAge, "%s is deleted", legacy)
		}
	})
}

func TestAForeignGuestCookieIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := edgeSite(t, Options{})
		id := s.knownBrowser(t)
		v := newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, id)
		v.setCookie(CloudSDKGuestCookie, `"><script>`)
		_, rep := v.get(s.h, "/flow")
		require.Empty(t, rep.Errors)
		assert.Equal(t, []string{s.sb.GuestRef(id)}, guestOfCalls(s), "a malformed guest ref is not sent; the real one is looked up")
	})
}

func TestAGuestLookUpThatFailsCostsNoDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := edgeSite(t, Options{})
		v := newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, "0f8fad5b-d9cb-469f-a165-70867728950e") // a browser the sandbox never made
		resp, rep := v.get(s.h, "/flow")
		assert.Empty(t, rep.Errors, "show.json's 404 costs the flow nothing")
		assert.Equal(t, []string{""}, guestOfCalls(s))
		assert.Empty(t, setCookies(t, resp, CloudSDKGuestCookie), "no guest ref, no cookie")
		assert.Len(t, setCookies(t, resp, CloudSDKBrowserCookie), 1)
	})
}

// A page variant the handler names goes into the page's VIEW event as ext.pageVariantId,
// over either transport.
func TestViewEventsCarryThePageVariant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, srv := memSandbox(t)
		pc := newClient(t, srv)
		mw, err := New(pc, Options{SendViewEvents: true, SessionKeys: testKeys})
		require.NoError(t, err)
		h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, personalize.SetPageVariant(r.Context(), "110d559fdea542ea9c1c8a5df7e70ef9_en_v2"))
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<p>hi</p>"))
		}))
		id, err := pc.CreateBrowser(context.Background())
		require.NoError(t, err)
		v := newVisitor(t)
		v.setCookie(bidName(t), id)
		resp, _ := v.get(h, "/lisbon")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, pc.Close(ctx))
		events := sb.Events()
		require.Len(t, events, 1)
		assert.Equal(t, "VIEW", events[0].Type)
		assert.Equal(t, "110d559fdea542ea9c1c8a5df7e70ef9_en_v2", events[0].PageVariantID)
	})
}

// knownBrowser creates a browser in the sandbox, as a returning visitor's cookie holds.
func (s *site) knownBrowser(t *testing.T) string {
	t.Helper()
	id, err := s.pc.CreateBrowser(context.Background())
	require.NoError(t, err)
	return id
}

func TestMintedBrowsersGetNoGuestLookUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lookUps atomic.Int64
		counted := personalize.WithHooks(personalize.Hooks{
			BrowserCreated: func(_ context.Context, info personalize.BrowserInfo) {
				if info.GuestRef {
					lookUps.Add(1)
				}
			}})
		t.Setenv(personalizetest.TransportEnv, personalize.TransportEdge)
		sb, srv := memSandbox(t)
		s := newSiteWith(t, sb, srv, Options{BrowserIDs: MintLocally}, counted)
		v := newVisitor(t)
		resp, rep := v.get(s.h, "/flow")
		require.Empty(t, rep.Errors)
		assert.Len(t, setCookies(t, resp, CloudSDKBrowserCookie), 1)
		assert.Empty(t, setCookies(t, resp, CloudSDKGuestCookie), "no guest ref for a browser the Edge did not make")
		assert.Equal(t, []string{""}, guestOfCalls(s))
		assert.Zero(t, lookUps.Load(), "and no look-up before the flow")

		// A browser the Edge made is looked up, as without MintLocally.
		id := s.knownBrowser(t)
		v = newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, id)
		_, rep = v.get(s.h, "/flow")
		require.Empty(t, rep.Errors)
		assert.Zero(t, lookUps.Load(), "MintLocally looks up no guest ref at all")

		// The control: without MintLocally the same visitor is looked up, and the hook says so.
		control := newSiteWith(t, sb, srv, Options{}, counted)
		v = newVisitor(t)
		v.setCookie(CloudSDKBrowserCookie, id)
		_, rep = v.get(control.h, "/flow")
		require.Empty(t, rep.Errors)
		assert.Equal(t, int64(1), lookUps.Load())
	})
}
