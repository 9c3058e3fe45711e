package main

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/views"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// The banner keeps the visitor's last decision when the API fails (PERSONALIZE_STALE_FOR,
// ten minutes by default); the flows without a policy show their default content.
func TestTheBannerShowsTheLastDecisionWhenTheAPIFails(t *testing.T) {
	for _, fault := range []sandbox.Fault{{Hang: true}, {Status: http.StatusServiceUnavailable}} {
		t.Run(faultName(fault), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, sb := bubbleSite(t)
				v := visitHome(t, s)
				require.Equal(t, "decision", v.states[views.FlowHomeBanner])
				doc, _ := visitPage(t, s, "/")
				healthy := text(doc.Find(".hero__title"))
				_, cached := doc.Find(`[data-personalize-slot="home_page_banner"]`).Attr("data-personalize-cache")
				assert.False(t, cached, "a fresh decision")

				sb.SetFault(fault)
				time.Sleep(time.Minute)
				for i := range 8 {
					doc, v := visitPage(t, s, "/")
					require.Equal(t, http.StatusOK, v.status)
					banner := doc.Find(`[data-personalize-slot="home_page_banner"]`)
					state, _ := banner.Attr("data-personalize-state")
					use, _ := banner.Attr("data-personalize-cache")
					assert.Equal(t, "decision", state, "page %d: the visitor's last banner", i)
					assert.Equal(t, "stale", use, "page %d", i)
					assert.Equal(t, healthy, text(doc.Find(".hero__title")), "page %d", i)
					state, _ = doc.Find(`[data-personalize-slot="recommended_destinations"]`).Attr("data-personalize-state")
					assert.Equal(t, "fallback", state, "page %d: no policy, the default", i)
				}

				time.Sleep(10 * time.Minute)
				v = visitHome(t, s)
				assert.Equal(t, "fallback", v.states[views.FlowHomeBanner], "older than PERSONALIZE_STALE_FOR: the default")
			})
		})
	}
}

func TestStaleForOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, sb := bubbleSite(t, "PERSONALIZE_STALE_FOR", "off")
		require.Equal(t, "decision", visitHome(t, s).states[views.FlowHomeBanner])
		sb.SetFault(sandbox.Fault{Status: http.StatusServiceUnavailable})
		assert.Equal(t, "fallback", visitHome(t, s).states[views.FlowHomeBanner])
	})
}

func faultName(f sandbox.Fault) string {
	if f.Hang {
		return "hanging API"
	}
	return "503"
}
