package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Tuning of the dispatcher.
const (
	// AttemptTimeout bounds one delivery attempt.
	AttemptTimeout = 15 * time.Second
	// DisableAfter is how long an endpoint may fail every attempt before
	// its subscription is disabled.
	DisableAfter = 5 * 24 * time.Hour
	// CacheTTL is how long subscriptions are read from memory by default:
	// a deleted or disabled subscription receives nothing once it has
	// passed, and a new one may wait as long for its first event.
	CacheTTL = 30 * time.Second
	// lease is how long an attempt holds its delivery before another
	// process may pick it up.
	lease = 2 * time.Minute
	// maxResponse is how much of a response body is read.
	maxResponse = 16 << 10
	// ResponseLogBytes is how much of it the delivery log keeps, as the
	// OpenAPI document states.
	ResponseLogBytes = 1 << 10
	// dueBatch is how many due deliveries one ProcessDue pass takes.
	dueBatch = 100
	// inlineBudget bounds how long a stream batch spends starting
	// attempts: what has not started by then is handed to ProcessDue, so a
	// slow endpoint delays its shard by at most this plus one attempt.
	inlineBudget = 10 * time.Second
)

// Store is what the dispatcher reads and records through: the webhook
// records, the tickets that comment events show, and the tombstones that
// say who deleted a ticket when.
type Store interface {
	helpdesk.WebhookStore
	// Ticket returns a ticket. CodeNotFound if none.
	Ticket(ctx context.Context, id string) (*helpdesk.Ticket, error)
	// Tombstone returns who deleted a ticket, and when. CodeNotFound if
	// it has no tombstone.
	Tombstone(ctx context.Context, id string) (helpdesk.Stamp, error)
	// LatestEvent returns the latest recorded event of a ticket.
	// CodeNotFound if none is.
	LatestEvent(ctx context.Context, ticketID string) (*helpdesk.StoredEvent, error)
	// ReplaceEventBody replaces the body of a recorded event.
	// CodeNotFound if it is not kept (any more).
	ReplaceEventBody(ctx context.Context, id string, body []byte) error
}

// Dispatcher delivers events to subscriptions. It is safe for concurrent
// use.
type Dispatcher struct {
	store   Store
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	workers int
	subs    *subscriptions
	// failing holds the ids of subscriptions this process has marked
	// failing since it last read them, so that a success soon after (with
	// a cached copy that does not show it) still clears the mark.
	failing sync.Map
}

// NewDispatcher returns a Dispatcher that reads and records through store
// and delivers with client (which must refuse what the SSRF guard refuses;
// see ssrf.Guard.Client), with workers concurrent attempts.
func NewDispatcher(store Store, client *http.Client, logger *slog.Logger, workers int) *Dispatcher {
	d := &Dispatcher{store: store, client: client, log: logger, now: time.Now, workers: max(workers, 1)}
	d.subs = &subscriptions{store: store, now: func() time.Time { return d.now() }, ttl: CacheTTL}
	return d
}

// SetCacheTTL shortens how long subscriptions are cached (the local stack
// uses zero, so a developer's new subscription works at once).
func (d *Dispatcher) SetCacheTTL(ttl time.Duration) { d.subs.ttl = min(ttl, CacheTTL) }

// SetClock replaces the clock (tests; the default is time.Now).
func (d *Dispatcher) SetClock(now func() time.Time) { d.now = now }

// job is one attempt to make.
type job struct {
	delivery *helpdesk.Delivery
	event    *helpdesk.StoredEvent
	hook     *helpdesk.Webhook
}

// finish records attempts made. If that fails, the deliveries stay due
// under their leases and are attempted again, with the same webhook-ids.
func (d *Dispatcher) finish(ctx context.Context, done []helpdesk.Finished) {
	if len(done) == 0 {
		return
	}
	if err := d.store.FinishAttempts(ctx, done); err != nil {
		d.log.ErrorContext(ctx, "could not record delivery attempts; they will be attempted again", slog.Int("attempts", len(done)), slog.String("error", err.Error()))
	}
}

// run attempts jobs on the worker pool. A job not started by handOff (when
// set), or too close to ctx's deadline to finish, is made due at once for
// ProcessDue instead; if even that fails, its lease expires and ProcessDue
// takes it then.
//
// The attempts are recorded together once all are made: a few batch writes
// instead of two writes per attempt on the way.
func (d *Dispatcher) run(ctx context.Context, jobs []job, handOff time.Time) {
	queue := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []helpdesk.Finished
	for range min(d.workers, len(jobs)) {
		wg.Go(func() {
			for j := range queue {
				deadline, hasDeadline := ctx.Deadline()
				late := !handOff.IsZero() && d.now().After(handOff)
				if late || hasDeadline && time.Until(deadline) < AttemptTimeout+2*time.Second {
					d.handOff(ctx, j.delivery)
					continue
				}
				f := d.attempt(ctx, j)
				mu.Lock()
				done = append(done, f)
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	d.finish(ctx, done)
}
