package personalize

// Version is this library's version, sent to the API in the X-Library-Version header.
const Version = "0.2.0"

// userAgent names the library in API requests that have no visitor's User-Agent to forward.
const userAgent = "go-personalize/" + Version + " (+https://github.com/go-personalize/sdk)"
