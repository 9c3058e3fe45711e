package personalize

import (
	"crypto/rand"
	"encoding/hex"
)

// newCorrelationID makes a flow call's correlation ID: a random UUID v4 written as 32 hex
// digits without dashes, as the Cloud SDK's generateCorrelationId makes them.
func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return hex.EncodeToString(b[:])
}
