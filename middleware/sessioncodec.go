package middleware

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxSessionValues bounds how many values a session cookie may hold.
const maxSessionValues = 32

// stringCodec serializes the default cookie store's session values, which the middleware keeps
// as strings only, as a query string. It replaces gob, whose decoder compiles the types anew
// for every cookie: on a personalized request that was most of the middleware's cost.
type stringCodec struct{}

// Serialize encodes a map[any]any of string keys and string values.
func (stringCodec) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("middleware: session values of type %T, want map[any]any", src)
	}
	q := make(url.Values, len(values))
	for k, v := range values {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("middleware: session key of type %T, want string", k)
		}
		vs, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("middleware: session value %q of type %T, want string", ks, v)
		}
		q.Set(ks, vs)
	}
	// Encode sorts the keys and escapes both sides with url.QueryEscape.
	return []byte(q.Encode()), nil
}

// Deserialize decodes into a *map[any]any.
func (stringCodec) Deserialize(src []byte, dst any) error {
	p, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("middleware: session destination of type %T, want *map[any]any", dst)
	}
	values := make(map[any]any)
	for rest := string(src); rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		rawKey, rawValue, ok := strings.Cut(pair, "=")
		if !ok {
			return errors.New("middleware: malformed session value")
		}
		k, err := url.QueryUnescape(rawKey)
		if err != nil {
			return err
		}
		v, err := url.QueryUnescape(rawValue)
		if err != nil {
			return err
		}
		if len(values) >= maxSessionValues {
			return errors.New("middleware: too many session values")
		}
		values[k] = v
	}
	*p = values
	return nil
}
