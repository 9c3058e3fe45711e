package personalizeredis

import (
	"encoding/binary"
	"time"

	"github.com/go-personalize/sdk/personalize"
)

// entryVersion is the first byte of every value this package writes. A value with another
// first byte (a future version, or something another program wrote) is a miss.
const entryVersion = 1

// The range of Stored a value may hold, in unix milliseconds: years 1 (the zero time.Time)
// to 9999.
var (
	minStored = time.Time{}.UnixMilli()
	maxStored = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
)

// entry is one decoded value: the decision and when it stops being served.
type entry struct {
	decision personalize.CachedDecision
	expires  int64 // unix milliseconds
}

// encodeEntry appends the encoding of e, expiring at expires (unix ms), to dst:
//
//	version   1 byte, entryVersion
//	stored    varint, e.Stored in unix milliseconds (years 1 to 9999)
//	expires   varint, unix milliseconds
//	status    varint, e.StatusCode
//	id length uvarint, then the bytes of e.FriendlyID
//	raw       the rest: e.Raw
func encodeEntry(dst []byte, e personalize.CachedDecision, expires int64) []byte {
	dst = append(dst, entryVersion)
	dst = binary.AppendVarint(dst, e.Stored.UnixMilli())
	dst = binary.AppendVarint(dst, expires)
	dst = binary.AppendVarint(dst, int64(e.StatusCode))
	dst = binary.AppendUvarint(dst, uint64(len(e.FriendlyID)))
	dst = append(dst, e.FriendlyID...)
	return append(dst, e.Raw...)
}

// encodedSize is len(encodeEntry(nil, e, expires)), without encoding.
func encodedSize(e personalize.CachedDecision, expires int64) int {
	var buf [binary.MaxVarintLen64]byte
	return 1 + len(binary.AppendVarint(buf[:0], e.Stored.UnixMilli())) +
		len(binary.AppendVarint(buf[:0], expires)) +
		len(binary.AppendVarint(buf[:0], int64(e.StatusCode))) +
		len(binary.AppendUvarint(buf[:0], uint64(len(e.FriendlyID)))) +
		len(e.FriendlyID) + len(e.Raw)
}

// decodeEntry decodes what encodeEntry wrote; ok is false for anything else (another
// version, a truncated or foreign value). The entry's Raw shares b's memory; b must not be
// changed afterwards.
func decodeEntry(b []byte) (e entry, ok bool) {
	if len(b) == 0 || b[0] != entryVersion {
		return entry{}, false
	}
	b = b[1:]
	stored, n := binary.Varint(b)
	if n <= 0 || stored < minStored || stored > maxStored {
		return entry{}, false
	}
	b = b[n:]
	expires, n := binary.Varint(b)
	if n <= 0 {
		return entry{}, false
	}
	b = b[n:]
	status, n := binary.Varint(b)
	if n <= 0 || status < 100 || status > 999 { // an HTTP status
		return entry{}, false
	}
	b = b[n:]
	idLen, n := binary.Uvarint(b)
	if n <= 0 || idLen > uint64(len(b)-n) {
		return entry{}, false
	}
	b = b[n:]
	e.decision = personalize.CachedDecision{
		FriendlyID: string(b[:idLen]),
		StatusCode: int(status),
		Stored:     time.UnixMilli(stored),
	}
	if raw := b[idLen:]; len(raw) > 0 {
		e.decision.Raw = raw
	}
	e.expires = expires
	return e, true
}
