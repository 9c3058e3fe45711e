package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The big answer is just under the client's default size cap (1 MiB): what an attacker can
// make the API answer without being refused for its size.
func TestTheBigAnswerIsJustUnderTheSizeCap(t *testing.T) {
	raw, err := json.Marshal(manyOffers(bigAnswerOffers))
	require.NoError(t, err)
	assert.Less(t, len(raw), 1<<20)
	assert.Greater(t, len(raw), 900<<10)
}
