package personalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
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
// yields the tree its Decoder yields with UseNumber (see treeParser). Its strings share one
// copy of raw.
func decodeTree(raw []byte) (any, error) {
	return parseTree(string(raw))
}

// parseTree is decodeTree of a string: the tree's strings are substrings of s, or decoded
// copies when they hold escapes.
func parseTree(s string) (any, error) {
	p := treeParser{data: s}
	return p.parseAll()
}

// parseAll parses p.data as one value, with decodeTree's errors.
func (p *treeParser) parseAll() (any, error) {
	p.skipSpace()
	if p.i == len(p.data) {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedResponse)
	}
	v, err := p.parseValue()
	if errors.Is(err, errTooBig) {
		return nil, fmt.Errorf("%w: the answer decodes to more than %d bytes", ErrResponseTooLarge, maxDecodedBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt([]byte(p.data)))
	}
	if p.skipSpace(); p.i < len(p.data) {
		return nil, fmt.Errorf("%w: body is not one JSON value: %s", ErrMalformedResponse, excerpt([]byte(p.data)))
	}
	if p.outOfRange {
		return nil, fmt.Errorf("%w: body is not JSON: %s", ErrMalformedResponse, excerpt([]byte(p.data)))
	}
	if p.decoded > maxDecodedBytes {
		return nil, fmt.Errorf("%w: the answer decodes to more than %d bytes", ErrResponseTooLarge, maxDecodedBytes)
	}
	return v, nil
}

// firstValue decodes the first JSON value of raw, whatever follows it; nil when there is none.
func firstValue(raw []byte) any {
	p := treeParser{data: string(raw)}
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
//
// With skip set it builds nothing: it checks the value and counts what it would decode to,
// without an allocation (checkAnswer), and reads the members of an object on demand
// (objectMembers).
type treeParser struct {
	data  string
	i     int
	depth int
	skip  bool
	// outOfRange records a number beyond float64's range: valid JSON, but not a value
	// encoding/json decodes, so the body is refused once it is known to be one value.
	outOfRange bool
	// decoded estimates the memory the tree takes (see maxDecodedBytes); parsing stops, and
	// the answer is refused, once it is over the bound.
	decoded int
	// escaped says whether the last string read held escapes (or bytes to replace): its
	// decoded form is then in scratch, not a plain substring of data.
	escaped          bool
	scratch          []byte
	strStart, strEnd int // the last string read, between its quotes
	// watchTop makes a skipping parser learn about the members of a top-level object, in top.
	watchTop bool
	top      topObject
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
	if len(p.data)-p.i < len(word) || p.data[p.i:p.i+len(word)] != word {
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
	var m map[string]any
	if !p.skip {
		m = make(map[string]any)
	}
	top := p.watchTop && p.depth == 1
	if p.next() == '}' {
		p.i++
		p.depth--
		return valueOf(m), nil
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
		var v any
		if top {
			err = p.top.member(p)
		} else {
			v, err = p.parseValue()
		}
		if err != nil {
			return nil, err
		}
		if !p.skip {
			m[key] = v
		}
		if p.decoded += elementCost; p.decoded > maxDecodedBytes { // the key's bytes: parseString
			return nil, errTooBig
		}
		switch p.next() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return valueOf(m), nil
		default:
			return nil, errNotJSON
		}
	}
}

// valueOf is m as a value, nil when the parser builds nothing.
func valueOf[T map[string]any | []any](m T) any {
	if m == nil {
		return nil
	}
	return m
}

func (p *treeParser) parseArray() (any, error) {
	if p.depth++; p.depth > maxTreeDepth {
		return nil, errNotJSON
	}
	p.i++ // [
	if p.decoded += containerCost; p.decoded > maxDecodedBytes {
		return nil, errTooBig
	}
	var a []any
	if !p.skip {
		a = make([]any, 0)
	}
	if p.next() == ']' {
		p.i++
		p.depth--
		return valueOf(a), nil
	}
	for {
		p.skipSpace()
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if !p.skip {
			a = append(a, v)
		}
		if p.decoded += elementCost; p.decoded > maxDecodedBytes {
			return nil, errTooBig
		}
		switch p.next() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return valueOf(a), nil
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
		if _, err := strconv.ParseFloat(d[start:i], 64); err != nil {
			p.outOfRange = true
		}
	}
	p.i = i
	p.decoded += i - start
	if p.skip {
		return nil, nil
	}
	return json.Number(d[start:i]), nil
}

// digits returns the index of the first byte at or after i that is not a digit.
func digits(d string, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// parseString parses the string at p.i (its opening quote) as encoding/json unquotes it:
// a substring of data when it holds no escapes, else a decoded copy ("" when skipping).
func (p *treeParser) parseString() (string, error) {
	start := p.i + 1
	if err := p.readString(); err != nil {
		return "", err
	}
	switch {
	case p.skip:
		return "", nil
	case p.escaped:
		return string(p.scratch), nil
	}
	return p.data[start : p.i-1], nil
}

// readString reads the string at p.i (its opening quote) and leaves p.i after its closing
// quote. A string with escapes, control characters or invalid UTF-8 is decoded into
// p.scratch, and p.escaped set; else its text is data between the quotes as it is.
func (p *treeParser) readString() error {
	d := p.data
	start := p.i + 1
	i := start
	p.escaped = false
	p.strStart = start
	for {
		// Plain ASCII eight bytes at a time, up to the first byte that is not.
		for i+8 <= len(d) {
			if m := specialBytes(load64(d, i)); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(d) {
			break
		}
		c := d[i]
		if c == '"' {
			p.i, p.strEnd = i+1, i
			p.decoded += i - start
			return nil
		}
		if c == '\\' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			i++ // the last bytes, fewer than eight
			continue
		}
		r, size := utf8.DecodeRuneInString(d[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	// Escapes, control characters or invalid UTF-8: decode from here.
	p.escaped = true
	b := append(p.scratch[:0], d[start:i]...)
	for i < len(d) {
		switch c := d[i]; {
		case c == '"':
			p.i, p.strEnd = i+1, i
			p.decoded += len(b)
			p.scratch = b
			return nil
		case c == '\\':
			i++
			if i >= len(d) {
				return errNotJSON
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
					return errNotJSON
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
				return errNotJSON
			}
			i++
		case c < ' ':
			return errNotJSON
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			// Invalid UTF-8 becomes U+FFFD, a byte at a time.
			r, size := utf8.DecodeRuneInString(d[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return errNotJSON
}

// Bytes of a word, every one set to 0x01 and to 0x80.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// load64 is the eight bytes of s at i, the first in the lowest byte.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// specialBytes flags (with its high bit) each byte of x where a string's scan must stop: a
// quote, a backslash, a control character or a byte of multi-byte or invalid UTF-8. The
// lowest flag is exact, so bits.TrailingZeros64/8 is the first such byte; higher ones may be
// false (a borrow from the byte below), and 0 means the eight bytes are plain ASCII.
func specialBytes(x uint64) uint64 {
	quote := x ^ (lowBits * '"')
	backslash := x ^ (lowBits * '\\')
	return (x | (x-lowBits*' ')&^x | (quote-lowBits)&^quote | (backslash-lowBits)&^backslash) & highBits
}

// lastString returns the last string read: a substring of data, or a decoded copy.
func (p *treeParser) lastString() string {
	if p.escaped {
		return string(p.scratch)
	}
	return p.data[p.strStart:p.strEnd]
}

// lastStringIs reports whether the last string read is s, without an allocation.
func (p *treeParser) lastStringIs(s string) bool {
	if p.escaped {
		return string(p.scratch) == s
	}
	return p.data[p.strStart:p.strEnd] == s
}

// escapedRune returns the rune of a \uXXXX escape at i, or -1.
func escapedRune(d string, i int) rune {
	if i+1 >= len(d) || d[i] != '\\' || d[i+1] != 'u' {
		return -1
	}
	return hex4(d, i+2)
}

// hex4 returns the value of the four hex digits at i, or -1.
func hex4(d string, i int) rune {
	if i+4 > len(d) {
		return -1
	}
	var r rune
	for _, c := range []byte(d[i : i+4]) {
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
