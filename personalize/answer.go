package personalize

import (
	"slices"
	"strings"
)

// answer is what checking a flow's answer found out: it is one JSON value that decodeTree
// would take (so offers are read from it without checking again), whether it holds anything,
// and whether it is Sitecore's error object. Nothing is decoded: the offers are read from
// body when asked for (offersIn). The zero answer is an unchecked one.
type answer struct {
	// body is the answer as a string, one copy of the bytes: the offers' fields are
	// substrings of it.
	body        string
	checked     bool
	empty       bool
	errorObject bool
}

// checkAnswer checks a flow's answer as decodeTree does (same errors), without building its
// tree.
func checkAnswer(raw []byte) (answer, error) {
	p := treeParser{data: string(raw), skip: true, watchTop: true}
	if _, err := p.parseAll(); err != nil {
		return answer{}, err
	}
	return answer{body: p.data, checked: true, empty: emptyValue(p.data), errorObject: p.top.isError()}, nil
}

// emptyValue reports whether the valid JSON value s is null, {}, [] or "".
func emptyValue(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	switch s[0] {
	case 'n':
		return true
	case '{', '[':
		rest := strings.TrimLeft(s[1:], " \t\r\n")
		return rest[0] == '}' || rest[0] == ']'
	case '"':
		return s[1] == '"'
	}
	return false
}

// topObject is what checkAnswer learns about the members of a top-level object while it
// checks it: enough to tell Sitecore's error object (see isErrorObject).
type topObject struct {
	hasStatus bool
	status    int  // the last "status" member as a number (statusNumber)
	hasDetail bool // a "message", "code" or "developerMessage" member
}

// member parses the value of the member whose key p read last.
func (t *topObject) member(p *treeParser) error {
	switch {
	case p.lastStringIs("status"):
		start := p.i
		if _, err := p.parseValue(); err != nil {
			return err
		}
		t.hasStatus, t.status = true, 0
		switch c := p.data[start]; {
		case c == '"':
			t.status = statusDigits(p.lastString())
		case c == '-' || ('0' <= c && c <= '9'):
			t.status = statusDigits(p.data[start:p.i])
		}
		return nil
	case p.lastStringIs("message"), p.lastStringIs("code"), p.lastStringIs("developerMessage"):
		t.hasDetail = true
	}
	_, err := p.parseValue()
	return err
}

func (t *topObject) isError() bool { return t.hasStatus && t.status >= 400 && t.hasDetail }

// member is a member of an object being read: its key and where its value is; plain says
// the value is a string without escapes, its text data[start+1:end-1].
type member struct {
	key        string
	start, end int
	plain      bool
}

// objectMembers appends the members of the JSON object at p.i to ms, sorted by key, a key
// that comes again keeping only its last value (as encoding/json decodes it), and leaves p.i
// after the object. The object is one checkAnswer accepted; were it not, the members read
// before the fault are returned.
func objectMembers(p *treeParser, ms []member) []member {
	first := len(ms)
	p.i++ // {
	for p.next() == '"' {
		if p.readString() != nil {
			break
		}
		key := p.lastString()
		if p.next() != ':' {
			break
		}
		p.i++
		p.skipSpace()
		start := p.i
		if _, err := p.parseValue(); err != nil {
			break
		}
		ms = append(ms, member{key: key, start: start, end: p.i, plain: p.data[start] == '"' && !p.escaped})
		if p.next() == ',' {
			p.i++
		}
	}
	p.i++ // }
	own := ms[first:]
	slices.SortStableFunc(own, func(a, b member) int { return strings.Compare(a.key, b.key) })
	// Of a run of equal keys, the last (in the answer's order) stays.
	kept := own[:0]
	for i, m := range own {
		if i+1 < len(own) && own[i+1].key == m.key {
			continue
		}
		kept = append(kept, m)
	}
	return ms[:first+len(kept)]
}
