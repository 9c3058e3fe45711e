// Package browserid knows the shape of a Sitecore browser ID, for the project's packages that
// read one from outside (a cookie, a request body, an API answer).
package browserid

// Valid reports whether s is shaped like a Sitecore browser ID: a UUID in its 36-character
// 8-4-4-4-12 hexadecimal form. Anything else (empty, overlong, other characters) must not
// reach the API.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidGuestRef reports whether s may be a Sitecore guest ref, as the Edge proxy names a
// browser's guest (customer_ref, customer.ref): Sitecore's are UUIDs, but the check is only
// that it is 1 to 64 letters, digits, '-' and '_', safe in a cookie and a JSON string.
func ValidGuestRef(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
