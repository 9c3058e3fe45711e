//go:build !race

package components_test

const raceEnabled = false
