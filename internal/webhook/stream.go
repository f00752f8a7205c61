package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// HandleStream processes a batch of ticket stream records: it records the
// events they cause (every one: they are the feed and the tickets'
// histories, as well as what webhooks deliver) and the deliveries those
// cause, then attempts the deliveries. The
// response names (by SequenceNumber) the records whose work could not be
// recorded, for Lambda to retry; failed deliveries are retried from the
// table, never by failing the batch.
func (d *Dispatcher) HandleStream(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	var resp lambdaevents.DynamoDBEventResponse
	var stored []*helpdesk.StoredEvent
	var owners []string // the SequenceNumber of each record with events
	b := &batchState{batch: batch, redacted: map[string]*helpdesk.Comment{}, tombstones: map[string]helpdesk.Stamp{}}
	for _, rec := range batch.Records {
		evs, err := d.produce(ctx, rec, b)
		var lookup *lookupError
		if errors.As(err, &lookup) {
			// The comment's ticket could not be read now; it can later.
			d.log.WarnContext(ctx, "stream record retried: a read or write its events need failed", slog.String("event_id", rec.EventID), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			continue
		}
		if err != nil {
			// A record that cannot be decoded never will be; failing it
			// would block the shard. Say so loudly instead.
			d.log.ErrorContext(ctx, "undecodable stream record skipped", slog.String("event_id", rec.EventID), slog.String("error", err.Error()))
			continue
		}
		if len(evs) > 0 {
			stored = append(stored, evs...)
			owners = append(owners, rec.Change.SequenceNumber)
		}
	}
	stored = forgetPurged(stored)
	if len(stored) == 0 {
		return resp, nil
	}
	d.redactInBatch(ctx, b, stored)
	retried := len(resp.BatchItemFailures)
	failAll := func(err error) (lambdaevents.DynamoDBEventResponse, error) {
		d.log.ErrorContext(ctx, "could not record events; the records will be retried", slog.Int("records", len(owners)), slog.String("error", err.Error()))
		resp.BatchItemFailures = resp.BatchItemFailures[:retried]
		for _, seq := range owners {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
		return resp, nil
	}
	hooks, err := d.subs.all(ctx)
	if err != nil {
		return failAll(err)
	}
	now := d.now()
	var jobs []job
	for _, ev := range stored {
		for _, h := range hooks {
			if h.Wants(ev.Type) {
				jobs = append(jobs, job{delivery: &helpdesk.Delivery{WebhookID: h.ID, EventID: ev.ID, Due: now.Add(lease)}, event: ev, hook: h})
			}
		}
	}
	deliveries := make([]*helpdesk.Delivery, len(jobs))
	for i, j := range jobs {
		deliveries[i] = j.delivery
	}
	fresh, err := d.store.RecordEvents(ctx, stored, deliveries)
	if err != nil {
		return failAll(err)
	}
	// A delivery already pending (a redelivered batch) is left to its own
	// schedule; only the new ones are attempted now.
	recorded := make(map[*helpdesk.Delivery]bool, len(fresh))
	for _, dl := range fresh {
		recorded[dl] = true
	}
	jobs = slices.DeleteFunc(jobs, func(j job) bool { return !recorded[j.delivery] })
	d.run(ctx, jobs, d.now().Add(inlineBudget))
	return resp, nil
}

// forgetPurged drops the events of the tickets the batch purges, but for
// their ticket.purged: the store purged the tickets' recorded events
// before the batch was handed over (dynamo.Store.PurgeRemovedTickets), so
// those the same batch makes would otherwise outlive the purge. A
// ticket's records come in order and nothing follows its purge, so every
// event dropped came before it.
func forgetPurged(stored []*helpdesk.StoredEvent) []*helpdesk.StoredEvent {
	purged := map[string]bool{}
	for _, ev := range stored {
		if ev.Type == events.TicketPurged {
			purged[ev.TicketID] = true
		}
	}
	if len(purged) == 0 {
		return stored
	}
	return slices.DeleteFunc(stored, func(ev *helpdesk.StoredEvent) bool {
		return purged[ev.TicketID] && ev.Type != events.TicketPurged
	})
}

// lookupError is a read or write a record's events need (a comment's
// ticket, the rewrite of its recorded creation, a deleted ticket's
// tombstone) that failed now but can succeed later: the record is
// retried, not skipped.
type lookupError struct{ err error }

func (e *lookupError) Error() string {
	return "read the stream record's ticket or event: " + e.err.Error()
}
func (e *lookupError) Unwrap() error { return e.err }

// produce returns the events of one record; a comment's show its ticket
// as commentTicket finds it. A redaction is noted in b, for
// redactInBatch.
func (d *Dispatcher) produce(ctx context.Context, rec lambdaevents.DynamoDBEventRecord, b *batchState) ([]*helpdesk.StoredEvent, error) {
	c, err := commentOf(rec)
	switch {
	case err != nil:
		return nil, err
	case c == nil:
		del, err := d.deletion(ctx, rec, b)
		if err != nil {
			return nil, &lookupError{err}
		}
		return Produce(rec, del)
	}
	shown, ok, err := d.commentTicket(ctx, rec, c, b)
	if err != nil || !ok {
		return nil, err
	}
	evs, err := commentEvents(rec, c, shown)
	if err == nil && len(evs) == 1 && evs[0].Type == events.TicketCommentRedacted {
		b.redacted[CreationEventID(c.ID)] = c
		if err := d.redactCreation(ctx, c); err != nil {
			return nil, &lookupError{err}
		}
	}
	return evs, err
}

// commentTicket returns the ticket a comment's event shows, as the
// comment left it: the ticket's own record from the same batch, written in
// the same transaction (its updatedAt is the comment's createdAt), or else
// the ticket as it is now. A ticket deleted since shows its last state:
// the batch's, when it holds the deletion (as it does unless a batch
// boundary falls between), else its latest recorded event's, at the
// comment's time (its events before the comment are recorded already, a
// ticket's records coming in order; what the comment's write changed
// besides the time, a reopening, its ticket.updated says). ok is false,
// and a warning logged, only when none of a deleted ticket's events was
// ever recorded (it was written before events were).
func (d *Dispatcher) commentTicket(ctx context.Context, rec lambdaevents.DynamoDBEventRecord, c *helpdesk.Comment, b *batchState) (shown events.Ticket, ok bool, err error) {
	if rec.EventName == string(lambdaevents.DynamoDBOperationTypeInsert) {
		if t := b.ticketAt(c.TicketID, c.CreatedAt); t != nil {
			return view.Ticket(t), true, nil
		}
	}
	now, err := d.store.Ticket(ctx, c.TicketID)
	switch {
	case err == nil:
		return view.Ticket(now), true, nil
	case helpdesk.ErrorCode(err) != helpdesk.CodeNotFound:
		return events.Ticket{}, false, &lookupError{err}
	}
	if t := b.lastTicket(c.TicketID); t != nil {
		return view.Ticket(t), true, nil
	}
	ev, err := d.store.LatestEvent(ctx, c.TicketID)
	switch {
	case helpdesk.ErrorCode(err) == helpdesk.CodeNotFound:
		d.log.WarnContext(ctx, "comment event not made: its ticket is deleted and none of its events is recorded",
			slog.String("event_id", rec.EventID), slog.String("comment_id", c.ID), slog.String("ticket_id", c.TicketID))
		return events.Ticket{}, false, nil
	case err != nil:
		return events.Ticket{}, false, &lookupError{err}
	}
	var body events.Event
	if err := decodeExact(ev.Body, &body); err != nil {
		return events.Ticket{}, false, fmt.Errorf("decode recorded event %s: %w", ev.ID, err)
	}
	shown = body.Data.Ticket
	shown.UpdatedAt = view.FormatTime(c.CreatedAt)
	return shown, true, nil
}

// deletion returns who deleted the ticket a record removes, and when: its
// tombstone, written in the same transaction, from the batch or else the
// table. Nil for any other record, and for a ticket deleted before
// tombstones were kept.
func (d *Dispatcher) deletion(ctx context.Context, rec lambdaevents.DynamoDBEventRecord, b *batchState) (*helpdesk.Stamp, error) {
	id, ok := dynamo.IsTicketRemoval(rec)
	if !ok {
		return nil, nil
	}
	if del, ok := b.tombstone(id); ok {
		return &del, nil
	}
	switch del, err := d.store.Tombstone(ctx, id); {
	case helpdesk.ErrorCode(err) == helpdesk.CodeNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	default:
		return &del, nil
	}
}

// redactCreation rewrites the recorded ticket.comment.created of a redacted
// comment, if it is still kept, so that its retries and replays no longer
// carry what was redacted.
func (d *Dispatcher) redactCreation(ctx context.Context, c *helpdesk.Comment) error {
	id := CreationEventID(c.ID)
	ev, err := d.store.Event(ctx, id)
	switch {
	case helpdesk.ErrorCode(err) == helpdesk.CodeNotFound:
		return nil // never recorded (no subscription took it), or expired
	case err != nil:
		return err
	}
	body, err := RedactedCreation(ev.Body, c)
	if err != nil {
		d.log.ErrorContext(ctx, "a recorded event could not be redacted", slog.String("event_id", id), slog.String("error", err.Error()))
		return nil
	}
	if err := d.store.ReplaceEventBody(ctx, id, body); err != nil && helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		return err
	}
	return nil
}

// batchState is what handling one batch learns beyond its events: the
// tickets' images, decoded only once a comment needs them, and the
// comments the batch redacts.
type batchState struct {
	batch lambdaevents.DynamoDBEvent
	// tickets are the tickets' images in the batch, by id, in stream
	// order: each write's new image, and a removal's old one (the ticket's
	// last state); nil until first needed.
	tickets map[string][]*helpdesk.Ticket
	// redacted are the comments the batch redacts, by the id of their
	// ticket.comment.created.
	redacted map[string]*helpdesk.Comment
	// tombstones are the deletions the batch's tombstones record, by
	// ticket id; read with the tickets' images.
	tombstones map[string]helpdesk.Stamp
}

// tombstone returns the deletion of ticket id, if the batch holds its
// tombstone.
func (b *batchState) tombstone(id string) (helpdesk.Stamp, bool) {
	b.images(id)
	del, ok := b.tombstones[id]
	return del, ok
}

func (b *batchState) images(id string) []*helpdesk.Ticket {
	if b.tickets == nil {
		b.tickets = map[string][]*helpdesk.Ticket{}
		for _, rec := range b.batch.Records {
			image := rec.Change.NewImage
			if rec.EventName == string(lambdaevents.DynamoDBOperationTypeRemove) {
				image = rec.Change.OldImage
			}
			if t, ok, err := dynamo.TicketFromImage(image); err == nil && ok {
				b.tickets[t.ID] = append(b.tickets[t.ID], t)
			}
			if id, del, ok, err := dynamo.TombstoneFromImage(rec.Change.NewImage); err == nil && ok {
				b.tombstones[id] = del
			}
		}
	}
	return b.tickets[id]
}

// lastTicket returns the latest state of ticket id the batch holds, or
// nil.
func (b *batchState) lastTicket(id string) *helpdesk.Ticket {
	if ts := b.images(id); len(ts) > 0 {
		return ts[len(ts)-1]
	}
	return nil
}

// ticketAt returns ticket id as it was written at updatedAt, if the batch
// holds that write.
func (b *batchState) ticketAt(id string, updatedAt time.Time) *helpdesk.Ticket {
	for _, t := range b.images(id) {
		if t.UpdatedAt.Equal(updatedAt) {
			return t
		}
	}
	return nil
}

// redactInBatch redacts the ticket.comment.created events of the batch
// whose comment the same batch redacts: they are recorded after the
// redaction's record was read, so the store's rewrite could not reach
// them.
func (d *Dispatcher) redactInBatch(ctx context.Context, b *batchState, stored []*helpdesk.StoredEvent) {
	for _, ev := range stored {
		c, ok := b.redacted[ev.ID]
		if !ok {
			continue
		}
		body, err := RedactedCreation(ev.Body, c)
		if err != nil {
			d.log.ErrorContext(ctx, "an event could not be redacted", slog.String("event_id", ev.ID), slog.String("error", err.Error()))
			continue
		}
		ev.Body = body
	}
}
