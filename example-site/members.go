package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
)

// memberCookie holds the signed-in member's ID, signed and encrypted with the site's session
// keys. It is HttpOnly and SameSite=Lax: another site's form cannot post with it, and the
// sign-in and sign-out forms check the request's origin too (sameOrigin).
const memberCookie = "goairways_member"

// memberMaxAge is how long a sign-in lasts.
const memberMaxAge = 7 * 24 * time.Hour

// member is a guest of the Go Airways Club. The demo has one, with no password: signing in is
// a button.
type member struct {
	// ID and Provider are the guest's identifier in Personalize (the IDENTITY event's
	// identifiers).
	ID, Provider string
	FirstName    string
	LastName     string
	Email        string
}

// Name is the member's full name.
func (m member) Name() string { return m.FirstName + " " + m.LastName }

// demoMember is the demo's only member.
func demoMember() member {
	return member{ID: "GA-1001", Provider: "GO_AIRWAYS", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com"}
}

// memberByID finds a member by ID.
func memberByID(id string) (member, bool) {
	if m := demoMember(); id == m.ID {
		return m, true
	}
	return member{}, false
}

// members signs members in and out with a small signed cookie.
type members struct {
	codecs []securecookie.Codec
	// secure says whether the cookie on the response to a request is Secure: the
	// middleware's rule for its own cookies (COOKIE_SECURE, TRUSTED_PROXIES), so the member
	// cookie is Secure behind a TLS-terminating proxy exactly when the session's is. Nil:
	// on TLS requests.
	secure func(*http.Request) bool
}

// newMembers uses the site's session key pairs (authentication, encryption), the first pair
// for new cookies and all of them to read, as the visit's session does. The cookie's name is
// part of what is signed, so it cannot be swapped with the session's.
func newMembers(keyPairs [][]byte) *members {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(memberMaxAge / time.Second))
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
	}
	return &members{codecs: codecs}
}

// current returns the signed-in member of the request, false when there is none (no cookie,
// or one that does not decode: tampered, expired, or made with other keys).
func (ms *members) current(r *http.Request) (member, bool) {
	c, err := r.Cookie(memberCookie)
	if err != nil {
		return member{}, false
	}
	var id string
	if err := securecookie.DecodeMulti(memberCookie, c.Value, &id, ms.codecs...); err != nil {
		return member{}, false
	}
	return memberByID(id)
}

// signIn sets the member's cookie on the response.
func (ms *members) signIn(w http.ResponseWriter, r *http.Request, m member) error {
	value, err := ms.encode(m.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, ms.cookie(r, value, int(memberMaxAge/time.Second)))
	return nil
}

// encode signs and encrypts a member ID for the cookie.
func (ms *members) encode(id string) (string, error) {
	value, err := securecookie.EncodeMulti(memberCookie, id, ms.codecs...)
	if err != nil {
		return "", fmt.Errorf("example-site: encoding the member cookie: %w", err)
	}
	return value, nil
}

// signOut deletes the member's cookie.
func (ms *members) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, ms.cookie(r, "", -1))
}

func (ms *members) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     memberCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   ms.secureOn(r),
	}
}

func (ms *members) secureOn(r *http.Request) bool {
	if ms.secure == nil {
		return r.TLS != nil
	}
	return ms.secure(r)
}
