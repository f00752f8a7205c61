package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// eventID derives an event's id from the stream record it comes from, so
// that a redelivered record yields the same id.
func eventID(recordID, eventType string) string {
	sum := sha256.Sum256([]byte(recordID + "/" + eventType))
	return "evt_" + strings.ToLower(idEncoding.EncodeToString(sum[:]))[:26]
}

// order is the Order of the i-th event of a stream record: the record's
// sequence number (a decimal of up to 40 digits, padded to sort as text),
// then i.
func order(rec lambdaevents.DynamoDBEventRecord, i int) string {
	seq := rec.Change.SequenceNumber
	return strings.Repeat("0", max(0, 40-len(seq))) + seq + "." + strconv.Itoa(i)
}

// Produce returns the events a ticket's stream record causes:
// ticket.created for an inserted ticket (ticket.restored for one the
// trash restores), ticket.updated (and ticket.assignment.changed when the
// assignee changed) for a ticket whose visible fields changed,
// ticket.deleted for a removed ticket, ticket.purged for the purge of its
// tombstone, and none for anything else (a comment's record: see ProduceComment). A new comment
// moves its ticket's updatedAt, which alone is no change: it sends no
// ticket.updated. The events name the actor the ticket's image names; for
// a removal, del says who deleted the ticket when (its tombstone); without
// it the deletion is the system's, at the stream's time. Either way the
// deletion's time is never before the ticket's last update.
func Produce(rec lambdaevents.DynamoDBEventRecord, del *helpdesk.Stamp) ([]*helpdesk.StoredEvent, error) {
	if !dynamo.IsTicketKey(rec.Change.Keys) {
		return nil, nil
	}
	if id, purge, ok, err := dynamo.PurgeOf(rec); err != nil || ok {
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", rec.EventID, err)
		}
		return purged(rec, id, purge)
	}
	var oldT, newT *helpdesk.Ticket
	for _, img := range []struct {
		dst   **helpdesk.Ticket
		image map[string]lambdaevents.DynamoDBAttributeValue
	}{{&oldT, rec.Change.OldImage}, {&newT, rec.Change.NewImage}} {
		if len(img.image) == 0 {
			continue
		}
		t, ok, err := dynamo.TicketFromImage(img.image)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", rec.EventID, err)
		}
		if ok {
			*img.dst = t
		}
	}
	var out []*helpdesk.StoredEvent
	add := func(typ string, t *helpdesk.Ticket, at time.Time, by helpdesk.Actor, previous map[string]any) error {
		ev := events.Event{
			ID: eventID(rec.EventID, typ), Type: typ, Timestamp: at.UTC(), Actor: view.Actor(by),
			Data: events.Data{Ticket: view.Ticket(t), Previous: previous},
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode %s: %w", typ, err)
		}
		out = append(out, &helpdesk.StoredEvent{ID: ev.ID, Type: typ, Body: body, CreatedAt: at, TicketID: t.ID, Order: order(rec, len(out))})
		return nil
	}
	var err error
	switch {
	case rec.EventName == string(lambdaevents.DynamoDBOperationTypeInsert) && newT != nil && dynamo.IsRestoration(rec):
		err = add(events.TicketRestored, newT, newT.UpdatedAt, newT.ChangedBy, nil)
	case rec.EventName == string(lambdaevents.DynamoDBOperationTypeInsert) && newT != nil:
		err = add(events.TicketCreated, newT, newT.CreatedAt, newT.ChangedBy, nil)
	case rec.EventName == string(lambdaevents.DynamoDBOperationTypeModify) && newT != nil && oldT != nil:
		previous := changed(view.Ticket(oldT), view.Ticket(newT))
		if len(previous) == 0 {
			return nil, nil
		}
		err = add(events.TicketUpdated, newT, newT.UpdatedAt, newT.ChangedBy, previous)
		if _, moved := previous["assigneeId"]; moved && err == nil {
			err = add(events.TicketAssignmentChanged, newT, newT.UpdatedAt, newT.ChangedBy, map[string]any{"assigneeId": previous["assigneeId"]})
		}
	case rec.EventName == string(lambdaevents.DynamoDBOperationTypeRemove) && oldT != nil && del != nil:
		// The deleting function's clock may be behind the one that wrote
		// the ticket last (the service cannot keep it after the ticket's
		// updatedAt, as it does for updates, without reading the ticket);
		// the deletion came after that write.
		err = add(events.TicketDeleted, oldT, helpdesk.Latest(del.At, oldT.UpdatedAt), del.By, nil)
	case rec.EventName == string(lambdaevents.DynamoDBOperationTypeRemove) && oldT != nil:
		// A ticket deleted before tombstones were kept. The stream's time
		// is rounded down (to the second in AWS), so it can read earlier
		// than the last update; the deletion came after.
		at := helpdesk.Latest(rec.Change.ApproximateCreationDateTime.Time, oldT.UpdatedAt)
		err = add(events.TicketDeleted, oldT, at, helpdesk.System, nil)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// purged is the ticket.purged event of a purge: the ticket's id, nothing
// else of it.
func purged(rec lambdaevents.DynamoDBEventRecord, id string, purge helpdesk.Stamp) ([]*helpdesk.StoredEvent, error) {
	ev := events.Event{
		ID: eventID(rec.EventID, events.TicketPurged), Type: events.TicketPurged, Timestamp: purge.At.UTC(),
		Actor: view.Actor(purge.By), Data: events.Data{TicketID: id},
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.Type, err)
	}
	return []*helpdesk.StoredEvent{{ID: ev.ID, Type: ev.Type, Body: body, CreatedAt: purge.At, TicketID: id, Order: order(rec, 0)}}, nil
}

// changed returns the old values of the fields that differ between two
// views, keyed by their JSON names; updatedAt alone is no change.
func changed(old, cur events.Ticket) map[string]any {
	var o, c map[string]any
	for _, v := range []struct {
		src events.Ticket
		dst *map[string]any
	}{{old, &o}, {cur, &c}} {
		b, _ := json.Marshal(v.src) // a struct of plain fields always encodes
		_ = decodeExact(b, v.dst)
	}
	previous := map[string]any{}
	for k, ov := range o {
		if k != "updatedAt" && !reflect.DeepEqual(ov, c[k]) {
			previous[k] = ov
		}
	}
	return previous
}

// ProduceComment returns the events a comment's stream record causes,
// showing t as the comment's ticket: ticket.comment.created for an inserted
// comment and ticket.comment.redacted for a comment whose body was
// redacted; none for anything else (a comment purged with its ticket, or a
// ticket's own record).
func ProduceComment(rec lambdaevents.DynamoDBEventRecord, t *helpdesk.Ticket) ([]*helpdesk.StoredEvent, error) {
	c, err := commentOf(rec)
	if err != nil || c == nil {
		return nil, err
	}
	return commentEvents(rec, c, view.Ticket(t))
}

// commentEvents is ProduceComment for a record whose new image, newC, is
// decoded already.
func commentEvents(rec lambdaevents.DynamoDBEventRecord, newC *helpdesk.Comment, t events.Ticket) ([]*helpdesk.StoredEvent, error) {
	var typ string
	var at time.Time
	switch rec.EventName {
	case string(lambdaevents.DynamoDBOperationTypeInsert):
		typ, at = events.TicketCommentCreated, newC.CreatedAt
	case string(lambdaevents.DynamoDBOperationTypeModify):
		oldC, _, err := dynamo.CommentFromImage(rec.Change.OldImage)
		if err != nil {
			return nil, recordError(rec, err)
		}
		if !newC.Redacted() || oldC != nil && oldC.Redacted() {
			return nil, nil
		}
		// Likewise a redaction by a function whose clock is behind the
		// one that wrote the comment came after the comment.
		typ, at = events.TicketCommentRedacted, helpdesk.Latest(newC.RedactedAt, newC.CreatedAt)
	default:
		return nil, nil
	}
	comment := view.Comment(newC)
	ev := events.Event{
		ID: commentEventID(newC.ID, typ), Type: typ, Timestamp: at.UTC(), Actor: view.Actor(newC.ChangedBy),
		Data: events.Data{Ticket: t, Comment: &comment},
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return []*helpdesk.StoredEvent{{ID: ev.ID, Type: typ, Body: body, CreatedAt: at, TicketID: newC.TicketID, Order: order(rec, 0)}}, nil
}

// commentEventID is the id of a comment's event of type typ: a comment is
// created once and redacted at most once, so the comment's id names each
// event (and a redelivered record yields the same id), and the redaction
// can find the creation's event to redact it too.
func commentEventID(commentID, typ string) string { return eventID("COMMENT#"+commentID, typ) }

// RedactedCreation returns the body that a redacted comment's
// ticket.comment.created must carry from now on: the recorded body, with
// the comment as redaction left it and the ticket as it was.
func RedactedCreation(recorded []byte, c *helpdesk.Comment) ([]byte, error) {
	var ev events.Event
	if err := decodeExact(recorded, &ev); err != nil {
		return nil, fmt.Errorf("decode the recorded ticket.comment.created: %w", err)
	}
	comment := view.Comment(c)
	ev.Data.Comment = &comment
	return json.Marshal(ev)
}

// decodeExact decodes JSON into v keeping numbers in values of type any
// as json.Number: a number custom field's value is an exact decimal that a
// float64 would round when the event is encoded again.
func decodeExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// CreationEventID is the id of the ticket.comment.created of a comment.
func CreationEventID(commentID string) string {
	return commentEventID(commentID, events.TicketCommentCreated)
}

func recordError(rec lambdaevents.DynamoDBEventRecord, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("record %s: %w", rec.EventID, err)
}

// commentOf returns the comment a stream record is of, from its new image
// (nil for a removal or a record that is not a comment's).
func commentOf(rec lambdaevents.DynamoDBEventRecord) (*helpdesk.Comment, error) {
	c, _, err := dynamo.CommentFromImage(rec.Change.NewImage)
	return c, recordError(rec, err)
}
