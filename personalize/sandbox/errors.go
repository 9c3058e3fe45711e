package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes of the sandbox's error objects. The real API's codes are not documented (see
// personalize-api.md 1.5), so these name the problem plainly; tests may match on them.
const (
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE" // 415: Content-Type is not application/json
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"      // 413: body over MaxBodySize
	CodeInvalidJSON          = "INVALID_JSON"           // 400: body is not one JSON object
	CodeInvalidField         = "INVALID_FIELD"          // 400: a field has the wrong type or form
	CodeMissingField         = "MISSING_FIELD"          // 400: a required field is missing or empty
	CodeInvalidIdentity      = "INVALID_IDENTITY"       // 400: not exactly one of browserId, email, identifiers
	CodeInvalidBrowserID     = "INVALID_BROWSER_ID"     // 400: browserId is not UUID-shaped
	CodeInvalidDate          = "INVALID_DATE"           // 400: dob or expiry_date not in the form YYYY-MM-DDThh:mm
	CodeUnknownPointOfSale   = "UNKNOWN_POINT_OF_SALE"  // 400: not one of WithPointsOfSale (an event is dropped instead)
	CodeUnknownSite          = "UNKNOWN_SITE"           // 400: Edge siteId not a site of the context (WithEdgeSites)
	CodeInvalidContextID     = "INVALID_CONTEXT_ID"     // 401: Edge sitecoreContextId unknown (WithEdgeSites)
	CodeInvalidClientKey     = "INVALID_CLIENT_KEY"     // 401: client key missing or unknown
	CodeUnknownBrowser       = "UNKNOWN_BROWSER"        // 404: event for a browser the sandbox never created
	CodeFlowNotFound         = "FLOW_NOT_FOUND"         // 404: no flow has this friendly ID
	CodeNotFound             = "NOT_FOUND"              // 404: no such endpoint
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"     // 405
	CodeFault                = "SANDBOX_FAULT"          // an injected fault (Status, ErrorObject)
	CodeRulePanic            = "RULE_PANIC"             // 500: a Rule panicked
	CodeServerClosing        = "SERVER_CLOSING"         // 503: a request reached a closing Server
)

// moreInfoURL is Sitecore's page on response codes, the moreInfoUrl of every error object.
const moreInfoURL = "https://doc.sitecore.com/personalize/en/developers/api/response-codes.html"

// ErrorBody is Sitecore's error object, the body of every error answer of the sandbox.
type ErrorBody struct {
	Status           int    `json:"status"`
	Code             string `json:"code"`
	Message          string `json:"message"`
	DeveloperMessage string `json:"developerMessage"`
	MoreInfoURL      string `json:"moreInfoUrl"`
}

// apiError is a rejected request: the status and error object to answer.
type apiError struct {
	status int
	body   ErrorBody
}

func newAPIError(status int, code, message, developerMessage string) *apiError {
	return &apiError{status: status, body: ErrorBody{
		Status:           status,
		Code:             code,
		Message:          message,
		DeveloperMessage: developerMessage,
		MoreInfoURL:      moreInfoURL,
	}}
}

func (e *apiError) json() []byte {
	b, _ := json.Marshal(e.body) // a struct of strings and an int always marshals
	return b
}

// writeJSON answers status with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers the error object of e.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusTooManyRequests || e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, e.json())
}

// onlyMethod refuses a request to an endpoint (path, as its message names it) made with another
// method than method: 405, with Allow set.
func onlyMethod(w http.ResponseWriter, r *http.Request, method, path string) *apiError {
	if r.Method == method {
		return nil
	}
	w.Header().Set("Allow", method)
	return newAPIError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method Not Allowed",
		"sandbox: "+path+" accepts "+method+" only")
}
