package personalize

// IdentityKind says which of the API's three identity fields an Identity fills.
type IdentityKind uint8

const (
	// NoIdentity is the zero Identity: a request without one is rejected before sending.
	NoIdentity IdentityKind = iota
	// BrowserIDIdentity sends "browserId", the only identity that attributes goals to the
	// browser's session.
	BrowserIDIdentity
	// EmailIdentity sends "email".
	EmailIdentity
	// IdentifiersIdentity sends "identifiers": {"id", "provider"}.
	IdentifiersIdentity
)

func (k IdentityKind) String() string {
	switch k {
	case BrowserIDIdentity:
		return "browserId"
	case EmailIdentity:
		return "email"
	case IdentifiersIdentity:
		return "identifiers"
	}
	return "none"
}

// Identity is who a flow runs for: exactly one of a browser ID, an email address or an
// identifier with its provider. Its fields are unexported so that two identities at once cannot
// be expressed; build one with BrowserID, Email or Identifier.
type Identity struct {
	kind     IdentityKind
	value    string
	provider string
}

// BrowserID is the identity of a browser whose ID Sitecore created.
func BrowserID(id string) Identity { return Identity{kind: BrowserIDIdentity, value: id} }

// Email is the identity of a known guest by email address.
func Email(address string) Identity { return Identity{kind: EmailIdentity, value: address} }

// Identifier is the identity of a known guest by an identifier issued by provider.
func Identifier(id, provider string) Identity {
	return Identity{kind: IdentifiersIdentity, value: id, provider: provider}
}

// Kind says which identity this is.
func (i Identity) Kind() IdentityKind { return i.kind }

// IsZero reports whether no identity was given.
func (i Identity) IsZero() bool { return i.kind == NoIdentity }

// Value is the browser ID, email address or identifier.
func (i Identity) Value() string { return i.value }

// Provider is the identifier's provider (empty for other kinds).
func (i Identity) Provider() string { return i.provider }

// String describes the identity without its value, so it is safe to log.
func (i Identity) String() string { return i.kind.String() }

func (i Identity) validate() error {
	switch i.kind {
	case NoIdentity:
		return invalidf("no identity: need a browser ID, an email or identifiers")
	case IdentifiersIdentity:
		if i.value == "" || i.provider == "" {
			return invalidf("identifiers need both an id and a provider")
		}
	default:
		if i.value == "" {
			return invalidf("empty %s", i.kind)
		}
	}
	return nil
}
