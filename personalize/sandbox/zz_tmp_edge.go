package sandbox

const (
	DefaultContextID = "sandbox-context-id"
	DefaultSiteName  = "sandbox-site"
)
