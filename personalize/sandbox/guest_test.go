package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFillGuest(t *testing.T) {
	guest := map[string]any{"firstname": "Ada", "LastName": "Lovelace", "email": "ada@example.com", "age": json.Number("36"), "vip": true}
	value := func(name string) string { return guestValue(guest, name) }
	tests := []struct {
		name, in, want string
	}{
		{"firstname", "Welcome back, {{guest.firstname}}", "Welcome back, Ada"},
		{"two", "{{guest.firstname}} {{guest.lastname}}", "Ada Lovelace"},
		{"name without regard to case", "{{guest.FIRSTNAME}}", "Ada"},
		{"number and bool", "{{guest.age}}/{{guest.vip}}", "36/true"},
		{"missing field is empty", "Hi {{guest.nickname}}!", "Hi !"},
		{"no placeholder", "Welcome back", "Welcome back"},
		{"empty name", "{{guest.}}", "{{guest.}}"},
		{"name with a space", "{{guest.first name}}", "{{guest.first name}}"},
		{"unclosed", "{{guest.firstname", "{{guest.firstname"},
		{"single braces", "{guest.firstname}", "{guest.firstname}"},
		{"nested", "{{guest.{{guest.email}}}}", "{{guest.ada@example.com}}"},
		{"overlong name", "{{guest." + strings.Repeat("a", maxGuestName+1) + "}}", "{{guest." + strings.Repeat("a", maxGuestName+1) + "}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, fillGuest(tc.in, value))
		})
	}
	assert.Equal(t, "Hi ", fillGuest("Hi {{guest.firstname}}", func(name string) string { return guestValue(nil, name) }), "no IDENTITY event")
}

// TestGuestPlaceholders: a flow greets the guest by the first name of the browser's latest
// IDENTITY event, JSON-encoded, with tracking links still minted and keys left alone.
func TestGuestPlaceholders(t *testing.T) {
	srv := start(t, WithFlows(Define("home_page_banner").
		Returns(map[string]any{"title": "Hello{{guest.firstname}}"}).
		When(HasEvent("IDENTITY"), map[string]any{
			"title":               "Welcome back, {{guest.firstname}}",
			"{{guest.firstname}}": "keys stay as written",
			"list":                []any{"{{guest.email}}", 1},
			"trackingUrl":         "{tracker}",
			"destination":         "/account",
		})))
	id := createBrowser(t, srv)
	banner := func(t *testing.T, kv ...any) (map[string]any, string) {
		t.Helper()
		resp, b := callFlows(t, srv, body(t, kv...))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		return decode[map[string]any](t, b), string(b)
	}

	got, _ := banner(t, "browserId", id)
	assert.Equal(t, "Hello", got["title"], "no IDENTITY event yet: the placeholder is empty")

	post := func(t *testing.T, ev string) {
		t.Helper()
		resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", ev)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
	}
	post(t, identityEvent(t, id, "firstname", `Ada "<b>&`, "email", "ada@example.com"))
	got, raw := banner(t, "browserId", id)
	assert.Equal(t, `Welcome back, Ada "<b>&`, got["title"])
	assert.Contains(t, raw, `"Welcome back, Ada \"<b>&"`, "JSON-encoded, nothing HTML-escaped")
	assert.Equal(t, "keys stay as written", got["{{guest.firstname}}"])
	assert.Equal(t, []any{"ada@example.com", float64(1)}, got["list"])
	assert.True(t, strings.HasPrefix(got["trackingUrl"].(string), srv.URL+PathTrackers), "the tracking link is minted too: %v", got["trackingUrl"])

	post(t, event(t, id, "type", "VIEW"))
	post(t, identityEvent(t, id, "firstname", "Grace"))
	got, _ = banner(t, "browserId", id)
	assert.Equal(t, "Welcome back, Grace", got["title"], "the latest IDENTITY event counts")

	post(t, identityEvent(t, id, "firstname", nil))
	got, _ = banner(t, "browserId", id)
	assert.Equal(t, "Welcome back, ", got["title"], "an identity without a first name")

	got, _ = banner(t, "browserId", nil, "email", "ada@example.com")
	assert.Equal(t, "Hello", got["title"], "events belong to browsers only")
}

func TestGuestPlaceholdersInFlowsFiles(t *testing.T) {
	flows, err := LoadFlows(strings.NewReader(`{"flows": [{"friendlyId": "home_page_banner",
		"response": {"title": "Fly for less"},
		"rules": [{"when": {"event": "IDENTITY"}, "response": {"title": "Welcome back, {{guest.firstname}}"}}]}]}`))
	require.NoError(t, err)
	srv := start(t, WithFlows(flows...))
	id := createBrowser(t, srv)
	resp, b := do(t, srv, http.MethodPost, PathEvents, "application/json", identityEvent(t, id))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
	resp, b = callFlows(t, srv, body(t, "browserId", id))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	assert.JSONEq(t, `{"title": "Welcome back, Ada"}`, string(b))
}
