package httpapi

import "testing"

// SetMaxBulkTickets lowers the bound on a bulk answer's tickets until the
// test ends; tests using it must not run in parallel.
func SetMaxBulkTickets(tb testing.TB, n int64) {
	tb.Helper()
	saved := maxBulkTickets
	maxBulkTickets = n
	tb.Cleanup(func() { maxBulkTickets = saved })
}

// AcceptsGzip exposes acceptsGzip to the table test of Accept-Encoding
// values.
var AcceptsGzip = acceptsGzip

// AllowedMethods exposes allowedMethods, for the longest Allow the
// document must admit.
var AllowedMethods = allowedMethods
