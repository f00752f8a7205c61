package dynamo

import (
	"fmt"
	"slices"
	"testing"
)

// WithRetiredIndex makes the planner use the retired index named as well
// as the v2 plan's, until the test ends, and returns the table design
// that has it: a measurement of the frontier (TestWorkloadFrontier). Only
// an index whose keys v2 writes is useful; tests using it must not run in
// parallel.
func WithRetiredIndex(tb testing.TB, name string) Design {
	tb.Helper()
	i := slices.IndexFunc(retiredTicketIndexes, func(ix ticketIndex) bool { return ix.Name == name })
	if i < 0 {
		panic(fmt.Sprintf("no retired index %q", name))
	}
	saved := ticketIndexes
	ticketIndexes = append(slices.Clone(saved), retiredTicketIndexes[i])
	tb.Cleanup(func() { ticketIndexes = saved })
	d := Table
	d.Indexes = append(slices.Clone(d.Indexes), retiredTicketIndexes[i].Index)
	return d
}
