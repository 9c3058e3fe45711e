package personalize

// Version is this library's version, sent in the User-Agent header.
const Version = "0.1.0"

// UserAgent names the library in API requests.
const UserAgent = "go-personalize/" + Version + " (+https://github.com/go-personalize/personalize)"
