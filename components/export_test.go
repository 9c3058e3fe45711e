package components

import "sync"

// ResetNoPageWarning re-arms the once-per-process warning about slots rendered without a page,
// so a test can watch it fire whatever the tests before it rendered. Call it only from a test
// that is not parallel, while no slot renders.
func ResetNoPageWarning() { noPageWarning = sync.Once{} }
