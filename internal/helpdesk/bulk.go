package helpdesk

import (
	"context"
	"fmt"
	"sync"
)

// Bulk updates: one patch applied to many tickets, each as its own update.
const (
	// MaxBulkIDs is the most tickets one bulk update names.
	MaxBulkIDs = 100
	// BulkWorkers bounds the updates a bulk update runs at once. Each is
	// one read and one conditional put, mostly waiting on DynamoDB, so a
	// few dozen overlap well; more would only make the writes of one
	// request throttle each other's partitions and the function's
	// connection pool.
	BulkWorkers = 16
)

// CheckBulkIDs records a problem under field (e.g. "ids") unless ids
// names 1 to MaxBulkIDs distinct tickets. An id of another shape than a
// ticket's is a problem of the request, not a ticket that is not found:
// in a body it is a field value the client got wrong, and answering it
// per ticket would echo an arbitrary string back.
func CheckBulkIDs(field string, ids []string, problems *Problems) {
	switch {
	case problems.Has(field):
		return // not a list of ids at all
	case len(ids) == 0:
		problems.Add(field, "must name 1 to %d tickets", MaxBulkIDs)
		return
	case len(ids) > MaxBulkIDs:
		problems.Add(field, "must name at most %d tickets", MaxBulkIDs)
		return
	}
	first := make(map[string]int, len(ids))
	for i, id := range ids {
		at := fmt.Sprintf("%s[%d]", field, i)
		if problems.Has(at) {
			continue // already reported while decoding
		}
		if !ValidTicketID(id) {
			problems.Add(at, "must be a ticket id such as tkt_…")
			continue
		}
		if j, seen := first[id]; seen {
			problems.Add(at, "duplicates %s[%d]", field, j)
			continue
		}
		first[id] = i
	}
}

// UpdateTickets applies p to every ticket in ids, each exactly as
// UpdateTicket without a precondition would: its own read-modify-write,
// validation, limits and history. The request as a whole is checked
// first (ids by CheckBulkIDs, p by Validate, with problems the caller
// already found); with any problem nothing is written and the answer is
// CodeValidation. Otherwise every ticket is tried, at most BulkWorkers
// at a time, and done is called once per id, from the worker that
// updated it (so concurrently), with its index in ids and the ticket as
// stored or the error a single update would have answered
// (CodeNotFound, CodeConflict, CodeValidation for a limit the result
// breaks, or a store failure). A failure of one never undoes or stops
// another; once ctx ends, the ids not yet started get ctx's error.
func (s *Service) UpdateTickets(ctx context.Context, ids []string, p *TicketPatch, problems Problems, done func(i int, t *Ticket, err error)) error {
	CheckBulkIDs("ids", ids, &problems)
	if err := s.validateUpdate(ctx, p, problems); err != nil {
		return err
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(BulkWorkers, len(ids)) {
		wg.Go(func() {
			for i := range next {
				if err := ctx.Err(); err != nil {
					done(i, nil, fmt.Errorf("update ticket %s: %w", ids[i], err))
					continue
				}
				t, err := s.update(ctx, ids[i], p, Precondition{})
				done(i, t, err)
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	return nil
}
