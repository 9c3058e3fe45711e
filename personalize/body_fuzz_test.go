package personalize

import (
	"errors"
	"testing"
)

// FuzzCheckFlowBody: any answer body is either accepted as a flow response or rejected with
// one of the package's errors; never a panic.
func FuzzCheckFlowBody(f *testing.F) {
	for _, s := range []string{`[]`, `{"status":400,"message":"x"}`, `{"status":"503","code":7}`, `{"status":200}`, ``, `nul`, "\x00", `{"status":1e999,"message":""}`} {
		f.Add(200, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		_, err := checkFlowBody(status, raw)
		var apiErr *APIError
		if err != nil && !errors.As(err, &apiErr) && !errors.Is(err, ErrMalformedResponse) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if err != nil {
			_ = err.Error()
		}
		_ = newAPIError(status, raw).Error()
	})
}
