package personalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxTreeDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxTreeDepth = 10000

// Bound of the memory an answer may decode to. A body under the size cap could hold tens of
// thousands of small offers, which decode to fifteen times their size in maps; the estimate
// counts containerCost for an object or array, elementCost for each of their entries, and
// the bytes of strings and numbers.
const (
	maxDecodedBytes = 2 << 20
	containerCost   = 64
	elementCost     = 32
)

// errNotJSON: the bytes are not valid JSON (the callers say where).
var errNotJSON = errors.New("personalize: invalid JSON")

// errTooBig: the tree went over maxDecodedBytes.
var errTooBig = errors.New("personalize: answer too big once decoded")

// decodeTree decodes a flow's answer: exactly one JSON value, numbers kept as json.Number;
// anything else (invalid JSON, nothing at all, more than one value) is an
// ErrMalformedResponse. It accepts what encoding/json's Unmarshal accepts into an any, and
// yields the tree its Decoder yields with UseNumber (see treeParser).
func decodeTree(raw []byte) (any, error) {
	p := treeParser{data: raw}
	p.skipSpace()
	if p.i == len(raw) {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedResponse)
	}
	v, err := p.parseValue()
	if errors.Is(err, errTooBig) {
		return nil, fmt.Errorf("%w: the answer decodes to more than %d bytes", ErrResponseTooLarge, maxDecodedBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt(raw))
	}
	if p.skipSpace(); p.i < len(raw) {
		return nil, fmt.Errorf("%w: body is not one JSON value: %s", ErrMalformedResponse, excerpt(raw))
	}
	if p.outOfRange {
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt(raw))
	}
	if p.decoded > maxDecodedBytes {
		return nil, fmt.Errorf("%w: the answer decodes to more than %d bytes", ErrResponseTooLarge, maxDecodedBytes)
	}
	return v, nil
}

// firstValue decodes the first JSON value of raw, whatever follows it; nil when there is none.
func firstValue(raw []byte) any {
	p := treeParser{data: raw}
	p.skipSpace()
	v, _ := p.parseValue()
	return v
}

// treeParser decodes one JSON value into the tree encoding/json's Decoder makes with
// UseNumber (map[string]any, []any, string, json.Number, bool, nil), straight from the
// bytes in one pass: the Decoder copies its input into a buffer it grows, then scans it
// twice, and costs the example site's home page 17% more time and 12% more memory
// (docs/performance.md). It accepts exactly what encoding/json's Unmarshal accepts into an
// any (so no number beyond float64's range) and yields the Decoder's values: strings with
// invalid UTF-8 or lone surrogates hold U+FFFD in their place, later duplicate keys win,
// nesting stops at encoding/json's depth (a differential fuzz test holds the two equal).
type treeParser struct {
	data  []byte
	i     int
	depth int
	// outOfRange records a number beyond float64's range: valid JSON, but not a value
	// encoding/json decodes, so the body is refused once it is known to be one value.
	outOfRange bool
	// decoded estimates the memory the tree takes (see maxDecodedBytes); parsing stops, and
	// the answer is refused, once it is over the bound.
	decoded int
}

// parseValue parses the value at p.i, which is not whitespace, and leaves p.i after it.
func (p *treeParser) parseValue() (any, error) {
	if p.i >= len(p.data) {
		return nil, errNotJSON
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.parseObject()
	case c == '[':
		return p.parseArray()
	case c == '"':
		return p.parseString()
	case c == '-' || ('0' <= c && c <= '9'):
		return p.parseNumber()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, errNotJSON
}

func (p *treeParser) literal(word string) error {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return errNotJSON
	}
	p.i += len(word)
	return nil
}

// skipSpace skips JSON's whitespace: space, tab, line feed and carriage return, nothing else
// (not \v, \f or U+00A0, which bytes.TrimSpace would take).
func (p *treeParser) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips whitespace and returns the byte there (0 at the end).
func (p *treeParser) next() byte {
	p.skipSpace()
	if p.i >= len(p.data) {
		return 0
	}
	return p.data[p.i]
}

func (p *treeParser) parseObject() (any, error) {
	if p.depth++; p.depth > maxTreeDepth {
		return nil, errNotJSON
	}
	p.i++ // {
	if p.decoded += containerCost; p.decoded > maxDecodedBytes {
		return nil, errTooBig
	}
	m := make(map[string]any)
	if p.next() == '}' {
		p.i++
		p.depth--
		return m, nil
	}
	for {
		if p.next() != '"' {
			return nil, errNotJSON
		}
		key, err := p.parseString()
		if err != nil {
			return nil, err
		}
		if p.next() != ':' {
			return nil, errNotJSON
		}
		p.i++
		p.skipSpace()
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		m[key] = v
		if p.decoded += elementCost; p.decoded > maxDecodedBytes { // the key's bytes: parseString
			return nil, errTooBig
		}
		switch p.next() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return m, nil
		default:
			return nil, errNotJSON
		}
	}
}

func (p *treeParser) parseArray() (any, error) {
	if p.depth++; p.depth > maxTreeDepth {
		return nil, errNotJSON
	}
	p.i++ // [
	if p.decoded += containerCost; p.decoded > maxDecodedBytes {
		return nil, errTooBig
	}
	a := make([]any, 0)
	if p.next() == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		p.skipSpace()
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if p.decoded += elementCost; p.decoded > maxDecodedBytes {
			return nil, errTooBig
		}
		switch p.next() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a, nil
		default:
			return nil, errNotJSON
		}
	}
}

// parseNumber parses a number at p.i and returns its text as a json.Number.
func (p *treeParser) parseNumber() (any, error) {
	d, start := p.data, p.i
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = digits(d, i+1)
	default:
		return nil, errNotJSON
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, errNotJSON
		}
		i = digits(d, i)
	}
	exponent := i < len(d) && (d[i] == 'e' || d[i] == 'E')
	if exponent {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, errNotJSON
		}
		i = digits(d, i)
	}
	// Only an exponent, or hundreds of digits, can leave float64's range: encoding/json
	// refuses such a number, so the parser does too.
	if exponent || i-start > 308 {
		if _, err := strconv.ParseFloat(string(d[start:i]), 64); err != nil {
			p.outOfRange = true
		}
	}
	p.i = i
	p.decoded += i - start
	return json.Number(d[start:i]), nil
}

// digits returns the index of the first byte at or after i that is not a digit.
func digits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// parseString parses the string at p.i (its opening quote) as encoding/json unquotes it.
func (p *treeParser) parseString() (string, error) {
	d := p.data
	start := p.i + 1
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.i = i + 1
			p.decoded += i - start
			return string(d[start:i]), nil
		}
		if c == '\\' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(d[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	// Escapes, control characters or invalid UTF-8: decode from here.
	b := append(make([]byte, 0, 2*(i-start)+32), d[start:i]...)
	for i < len(d) {
		switch c := d[i]; {
		case c == '"':
			p.i = i + 1
			p.decoded += len(b)
			return string(b), nil
		case c == '\\':
			i++
			if i >= len(d) {
				return "", errNotJSON
			}
			switch d[i] {
			case '"', '\\', '/':
				b = append(b, d[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(d, i+1)
				if r < 0 {
					return "", errNotJSON
				}
				i += 5
				if utf16.IsSurrogate(r) {
					// A pair needs its second half right after; else the half is replaced.
					if r2 := escapedRune(d, i); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", errNotJSON
			}
			i++
		case c < ' ':
			return "", errNotJSON
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			// Invalid UTF-8 becomes U+FFFD, a byte at a time.
			r, size := utf8.DecodeRune(d[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return "", errNotJSON
}

// escapedRune returns the rune of a \uXXXX escape at i, or -1.
func escapedRune(d []byte, i int) rune {
	if i+1 >= len(d) || d[i] != '\\' || d[i+1] != 'u' {
		return -1
	}
	return hex4(d, i+2)
}

// hex4 returns the value of the four hex digits at i, or -1.
func hex4(d []byte, i int) rune {
	if i+4 > len(d) {
		return -1
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
