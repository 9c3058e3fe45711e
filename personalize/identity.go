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
// be expressed; build one with ByBrowserID, ByEmail or ByIdentifier. It prints as its kind
// only, never its value, so it is safe to log.
type Identity struct {
	kind     IdentityKind
	value    string
	provider string
}

// ByBrowserID is the identity of a browser whose ID Sitecore created.
func ByBrowserID(id string) Identity { return Identity{kind: BrowserIDIdentity, value: id} }

// ByEmail is the identity of a known guest by email address.
func ByEmail(address string) Identity { return Identity{kind: EmailIdentity, value: address} }

// ByIdentifier is the identity of a known guest by an identifier issued by provider.
func ByIdentifier(id, provider string) Identity {
	return Identity{kind: IdentifiersIdentity, value: id, provider: provider}
}

// String describes the identity without its value: "browserId", "email", "identifiers" or
// "none".
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
