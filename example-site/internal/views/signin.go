package views

// SignInView is the sign-in page.
type SignInView struct {
	Meta
	// Demo is the demo member the button signs in as.
	Demo Member
}
