package webhook_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
	"github.com/acme/helpdesk/internal/webhook"
)

// FuzzProduce decodes arbitrary JSON as Lambda decodes a stream record and
// produces its events. Whatever it produces must be well formed (see
// checkEvents), of the types the record's operation allows, and the same
// every time: the dispatcher relies on a redelivered record, decoded
// afresh, giving the same ids.
func FuzzProduce(f *testing.F) {
	// A comment's records share the ticket's partition and the filter:
	// Produce must make nothing of them (ProduceComment's events).
	for _, rec := range append(sampleRecords(), sampleCommentRecords()...) {
		b, err := json.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "TICKET#x"}}, "NewImage": {"pk": {"S": "TICKET#x"}, "ver": {"S": "1"}}}}`))
	f.Add([]byte(`{"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"N": "1"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec lambdaevents.DynamoDBEventRecord
		if json.Unmarshal(data, &rec) != nil {
			return
		}
		evs, err := webhook.Produce(rec, nil)
		if err != nil {
			if evs != nil {
				t.Fatalf("Produce returned events with the error %v", err)
			}
			return
		}
		got := checkEvents(t, rec, evs)
		allowed := map[string][]string{
			"INSERT": {events.TicketCreated},
			"MODIFY": {events.TicketUpdated, events.TicketAssignmentChanged},
			"REMOVE": {events.TicketDeleted},
		}[rec.EventName]
		for i, ev := range got {
			if !slices.Contains(allowed, ev.Type) {
				t.Fatalf("a %q record gave %s", rec.EventName, ev.Type)
			}
			if ev.Type == events.TicketAssignmentChanged && (i == 0 || got[0].Type != events.TicketUpdated) {
				t.Fatalf("ticket.assignment.changed without ticket.updated before it: %v", evs)
			}
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return
		}
		var redelivered lambdaevents.DynamoDBEventRecord
		if err := json.Unmarshal(b, &redelivered); err != nil {
			t.Fatalf("a record does not decode from its own encoding %s: %v", b, err)
		}
		again, err := webhook.Produce(redelivered, nil)
		if err != nil || len(again) != len(evs) {
			t.Fatalf("the record decoded again gave %d events, %v; first %d", len(again), err, len(evs))
		}
		for i := range evs {
			if again[i].ID != evs[i].ID || again[i].Type != evs[i].Type {
				t.Fatalf("the record decoded again gave %s %s, first %s %s", again[i].Type, again[i].ID, evs[i].Type, evs[i].ID)
			}
		}
	})
}

// FuzzProduceTickets produces the events of stream records built from
// ticket images that vary in the fields events report, under every
// operation, with images missing or of other items. It checks the events
// against what the package doc promises, stated here on the images: one
// ticket.created per inserted ticket, ticket.updated with the old values
// of exactly the fields that changed (and ticket.assignment.changed when
// the assignee did) per modified ticket, ticket.deleted at no earlier
// than the last update per removed ticket, and nothing else.
func FuzzProduceTickets(f *testing.F) {
	f.Add(byte(0), "e1", int64(1_767_225_600), int64(1_767_225_600_123), uint32(1000), "Printer", "Printer", byte(0x10), "", "usr_a", "a,b", byte(1), "floor 3", 2.5)
	f.Add(byte(1), "e2", int64(0), int64(1_700_000_000_000), uint32(5), "Old", "New", byte(0x21), "usr_a", "usr_b", "old", byte(4), "", 0.0)
	f.Add(byte(1), "e3", int64(0), int64(1_700_000_000_000), uint32(5), "Same", "Same", byte(0x00), "usr_a", "usr_a", "old", byte(4), "", 0.0)
	f.Add(byte(2), "e4", int64(1_700_000_000), int64(1_700_000_000_000), uint32(1500), "Gone", "Gone", byte(0x33), "", "", "", byte(2), "", -1e-9)
	f.Add(byte(0x12), "e5", int64(1_700_000_000), int64(1_700_000_000_000), uint32(0), "k", "k", byte(0x44), "", "", "", byte(3), "", 1.0)
	f.Add(byte(0x25), "e6", int64(1_700_000_000), int64(1_700_000_000_000), uint32(0), "x", "y", byte(0x01), "", "", "", byte(0), "", 0.0)
	f.Fuzz(func(t *testing.T, op byte, eventID string, approx, createdMS int64, delta uint32, oldSubject, newSubject string,
		statuses byte, oldAssignee, newAssignee, tags string, cfKind byte, cfText string, cfNumber float64) {
		number, err := helpdesk.ParseNumber(strconv.FormatFloat(cfNumber, 'g', -1, 64))
		if err != nil {
			return // DynamoDB numbers are finite, within 1e-130..1e126
		}
		// DynamoDB strings are UTF-8.
		clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		// Times the store can write: from 1970 to the end of year 9999,
		// with room for the updates after.
		const lastMS = 253_402_300_799_999
		created := time.UnixMilli(int64(uint64(createdMS) % (lastMS - 1<<31))).UTC()
		approxAt := time.Unix(int64(uint64(approx)%(lastMS/1000)), 0)
		oldT := &helpdesk.Ticket{
			ID: "tkt_aaaaaaaaaaaaaaaaaaaaaaaa", Subject: clean(oldSubject),
			Status: helpdesk.Statuses[int(statuses&0xf)%len(helpdesk.Statuses)], Priority: helpdesk.PriorityHigh, Type: helpdesk.TypeTask,
			AssigneeID: clean(oldAssignee), RequesterEmail: "ada@example.com", Tags: []string{"old"},
			CustomFields: []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}},
			CreatedAt:    created, UpdatedAt: created.Add(time.Duration(delta%1_000_000) * time.Millisecond), Version: 1,
		}
		newT := *oldT
		newT.Subject, newT.AssigneeID = clean(newSubject), clean(newAssignee)
		newT.Status = helpdesk.Statuses[int(statuses>>4)%len(helpdesk.Statuses)]
		newT.Tags = []string{}
		if tags != "" {
			newT.Tags = strings.Split(clean(tags), ",")
		}
		switch cfKind % 5 {
		case 0:
			newT.CustomFields = []helpdesk.CustomFieldValue{}
		case 1:
			newT.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: clean(cfText)}}
		case 2:
			newT.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: number}}
		case 3:
			newT.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}, {ID: "cf_b", Value: cfNumber > 0}}
		}
		newT.UpdatedAt = oldT.UpdatedAt.Add(time.Duration(delta%997) * time.Millisecond)
		newT.Version = 2

		operation := []string{"INSERT", "MODIFY", "REMOVE", "UNKNOWN"}[op&3]
		withOld, withNew, ticketKeys, ticketOld := op&4 == 0, op&8 == 0, op&16 == 0, op&32 == 0
		rec := streamRecord(clean(eventID), operation, approxAt, oldT, &newT, withOld, withNew, ticketKeys, ticketOld)
		evs, err := webhook.Produce(rec, nil)
		if err != nil {
			t.Fatalf("Produce: %v", err)
		}
		got := checkEvents(t, rec, evs)

		type want struct {
			typ      string
			ticket   *helpdesk.Ticket
			at       time.Time
			previous map[string]any
		}
		var wants []want
		switch {
		case !ticketKeys:
		case operation == "INSERT" && withNew:
			wants = []want{{events.TicketCreated, &newT, newT.CreatedAt, nil}}
		case operation == "MODIFY" && withNew && withOld && ticketOld:
			previous := map[string]any{}
			if oldT.Subject != newT.Subject {
				previous["subject"] = oldT.Subject
			}
			if oldT.Status != newT.Status {
				previous["status"] = string(oldT.Status)
			}
			if oldT.AssigneeID != newT.AssigneeID {
				previous["assigneeId"] = nil
				if oldT.AssigneeID != "" {
					previous["assigneeId"] = oldT.AssigneeID
				}
			}
			if !slices.Equal(oldT.Tags, newT.Tags) {
				previous["tags"] = []any{"old"}
			}
			if !slices.Equal(oldT.CustomFields, newT.CustomFields) {
				previous["customFields"] = []any{map[string]any{"id": "cf_a", "value": "x"}}
			}
			if len(previous) > 0 {
				wants = []want{{events.TicketUpdated, &newT, newT.UpdatedAt, previous}}
			}
			if a, ok := previous["assigneeId"]; ok {
				wants = append(wants, want{events.TicketAssignmentChanged, &newT, newT.UpdatedAt, map[string]any{"assigneeId": a}})
			}
		case operation == "REMOVE" && withOld && ticketOld:
			at := rec.Change.ApproximateCreationDateTime.Time
			if at.Before(oldT.UpdatedAt) {
				at = oldT.UpdatedAt
			}
			wants = []want{{events.TicketDeleted, oldT, at, nil}}
		}
		if len(got) != len(wants) {
			t.Fatalf("%s record (old %v, new %v, ticket keys %v, old a ticket %v) gave %d events, want %d: %v",
				operation, withOld, withNew, ticketKeys, ticketOld, len(got), len(wants), evs)
		}
		for i, w := range wants {
			ev := got[i]
			if ev.Type != w.typ || !ev.Timestamp.Equal(w.at) || !reflect.DeepEqual(ev.Data.Previous, w.previous) {
				t.Fatalf("event %d is %s at %v with previous %#v; want %s at %v with %#v", i, ev.Type, ev.Timestamp, ev.Data.Previous, w.typ, w.at, w.previous)
			}
			if view := view.Ticket(w.ticket); !reflect.DeepEqual(ev.Data.Ticket, view) {
				t.Fatalf("event %d shows\n%+v\nwant\n%+v", i, ev.Data.Ticket, view)
			}
		}
		other := rec
		other.EventID += "'"
		for i, ev := range produce(t, other) {
			if ev.ID == evs[i].ID {
				t.Fatalf("records %q and %q both gave the id %s", rec.EventID, other.EventID, ev.ID)
			}
		}
	})
}

// checkEvents fails unless every event is of a known type, has an id of
// the documented shape (distinct within the record), and a body that
// events.Parse accepts, signed, as the event stored beside it; and unless
// producing the record again gives the very same events. It returns the
// events decoded.
func checkEvents(t *testing.T, rec lambdaevents.DynamoDBEventRecord, evs []*helpdesk.StoredEvent) []events.Event {
	t.Helper()
	secret := events.NewSecret()
	out := make([]events.Event, len(evs))
	for i, ev := range evs {
		if !events.Known(ev.Type) || !eventIDPattern.MatchString(ev.ID) {
			t.Fatalf("event %d: type %q, id %q", i, ev.Type, ev.ID)
		}
		if slices.ContainsFunc(evs[:i], func(o *helpdesk.StoredEvent) bool { return o.ID == ev.ID }) {
			t.Fatalf("event %d repeats the id %s", i, ev.ID)
		}
		if !json.Valid(ev.Body) {
			t.Fatalf("event %d: body is not JSON: %s", i, ev.Body)
		}
		parsed, err := signAndParse(t, secret, ev)
		if err != nil {
			t.Fatalf("event %d: events.Parse: %v\n%s", i, err, ev.Body)
		}
		if parsed.ID != ev.ID || parsed.Type != ev.Type || !parsed.Timestamp.Equal(ev.CreatedAt) {
			t.Fatalf("event %d: the body says %s %s at %v, stored as %s %s at %v", i, parsed.Type, parsed.ID, parsed.Timestamp, ev.Type, ev.ID, ev.CreatedAt)
		}
		if (parsed.Data.Previous != nil) != (ev.Type == events.TicketUpdated || ev.Type == events.TicketAssignmentChanged) {
			t.Fatalf("event %d: %s with previous %v", i, ev.Type, parsed.Data.Previous)
		}
		if _, ok := parsed.Data.Previous["updatedAt"]; ok {
			t.Fatalf("event %d: updatedAt among the changed fields", i)
		}
		out[i] = *parsed
	}
	again, err := webhook.Produce(rec, nil)
	if err != nil || len(again) != len(evs) {
		t.Fatalf("the same record gave %d events, %v; first %d", len(again), err, len(evs))
	}
	for i := range evs {
		if !reflect.DeepEqual(again[i], evs[i]) {
			t.Fatalf("the same record gave event %d\n%+v\nthen\n%+v", i, evs[i], again[i])
		}
	}
	return out
}

// sampleRecords returns stream records of each operation on a ticket, and
// one of another item.
func sampleRecords() []lambdaevents.DynamoDBEventRecord {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123_000_000, time.UTC)
	old := &helpdesk.Ticket{ID: "tkt_bbbbbbbbbbbbbbbbbbbbbbbb", Subject: "Cannot log in", Status: helpdesk.StatusNew,
		Priority: helpdesk.PriorityNormal, Type: helpdesk.TypeQuestion, Tags: []string{"login"},
		CustomFields: []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}, {ID: "cf_b", Value: helpdesk.Number("2.5")}, {ID: "cf_c", Value: true}},
		CreatedAt:    at, UpdatedAt: at, Version: 1}
	cur := *old
	cur.Status, cur.AssigneeID, cur.UpdatedAt, cur.Version = helpdesk.StatusOpen, "usr_alice", at.Add(time.Second), 2
	approx := at.Add(time.Minute).Truncate(time.Second)
	return []lambdaevents.DynamoDBEventRecord{
		streamRecord("r1", "INSERT", approx, nil, old, false, true, true, true),
		streamRecord("r2", "MODIFY", approx, old, &cur, true, true, true, true),
		streamRecord("r3", "REMOVE", approx, &cur, nil, true, false, true, true),
		streamRecord("r4", "INSERT", approx, nil, old, false, true, false, true),
	}
}

// streamRecord returns a record as Lambda delivers it for a change of a
// ticket from oldT to newT, with the images asked for. An image or keys
// that are not a ticket's are an API key's.
func streamRecord(eventID, operation string, approx time.Time, oldT, newT *helpdesk.Ticket, withOld, withNew, ticketKeys, ticketOld bool) lambdaevents.DynamoDBEventRecord {
	id := "tkt_unknown"
	if newT != nil {
		id = newT.ID
	} else if oldT != nil {
		id = oldT.ID
	}
	keys := map[string]lambdaevents.DynamoDBAttributeValue{
		"pk": lambdaevents.NewStringAttribute("TICKET#" + id), "sk": lambdaevents.NewStringAttribute("TICKET"),
	}
	if !ticketKeys {
		keys = map[string]lambdaevents.DynamoDBAttributeValue{
			"pk": lambdaevents.NewStringAttribute("KEY#key_a"), "sk": lambdaevents.NewStringAttribute("KEY"),
		}
	}
	rec := lambdaevents.DynamoDBEventRecord{
		EventID: eventID, EventName: operation, EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		Change: lambdaevents.DynamoDBStreamRecord{
			ApproximateCreationDateTime: lambdaevents.SecondsEpochTime{Time: approx},
			Keys:                        keys, SequenceNumber: "100" + eventID, SizeBytes: 512, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
	if withOld && oldT != nil {
		rec.Change.OldImage = ticketImage(oldT)
		if !ticketOld {
			rec.Change.OldImage = keyImage()
		}
	}
	if withNew && newT != nil {
		rec.Change.NewImage = ticketImage(newT)
		if !ticketKeys {
			rec.Change.NewImage = keyImage()
		}
	}
	return rec
}

// ticketImage is a ticket item as the stream shows it, with the attribute
// names the store writes.
func ticketImage(t *helpdesk.Ticket) map[string]lambdaevents.DynamoDBAttributeValue {
	s := lambdaevents.NewStringAttribute
	ms := func(at time.Time) string { return at.UTC().Format("2006-01-02T15:04:05.000Z") }
	tags := make([]lambdaevents.DynamoDBAttributeValue, len(t.Tags))
	for i, tag := range t.Tags {
		tags[i] = s(tag)
	}
	values := make([]lambdaevents.DynamoDBAttributeValue, len(t.CustomFields))
	for i, c := range t.CustomFields {
		var v lambdaevents.DynamoDBAttributeValue
		switch x := c.Value.(type) {
		case string:
			v = s(x)
		case helpdesk.Number:
			v = lambdaevents.NewNumberAttribute(string(x))
		case bool:
			v = lambdaevents.NewBooleanAttribute(x)
		}
		values[i] = lambdaevents.NewMapAttribute(map[string]lambdaevents.DynamoDBAttributeValue{"id": s(c.ID), "value": v})
	}
	img := map[string]lambdaevents.DynamoDBAttributeValue{
		"pk": s("TICKET#" + t.ID), "sk": s("TICKET"), "ix_kind": s("TICKET"),
		"id": s(t.ID), "subject": s(t.Subject), "status": s(string(t.Status)), "priority": s(string(t.Priority)), "type": s(string(t.Type)),
		"tags": lambdaevents.NewListAttribute(tags), "customFields": lambdaevents.NewListAttribute(values),
		"createdAt": s(ms(t.CreatedAt)), "updatedAt": s(ms(t.UpdatedAt)), "ver": lambdaevents.NewNumberAttribute(strconv.FormatInt(t.Version, 10)),
	}
	for k, v := range map[string]string{"assigneeId": t.AssigneeID, "requesterEmail": t.RequesterEmail, "requesterName": t.RequesterName} {
		if v != "" {
			img[k] = s(v)
		}
	}
	return img
}

// keyImage is an API key item, which shares the table and its stream.
func keyImage() map[string]lambdaevents.DynamoDBAttributeValue {
	return map[string]lambdaevents.DynamoDBAttributeValue{
		"pk": lambdaevents.NewStringAttribute("KEY#key_a"), "sk": lambdaevents.NewStringAttribute("KEY"),
		"name": lambdaevents.NewStringAttribute("ci"),
	}
}

// commentTypes are the events a comment's record may cause.
var commentTypes = []string{events.TicketCommentCreated, events.TicketCommentRedacted}

// apiTime is the shape of the API's times.
var apiTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// FuzzProduceComment decodes arbitrary JSON as Lambda decodes a stream
// record and produces its comment events, shown with a ticket. Whatever it
// produces is at most one event, ticket.comment.created for an inserted
// comment or ticket.comment.redacted for a modified one, never for another
// operation; its body is a signed events.Event that shows the ticket and,
// in data.comment, the comment as the record's new image holds it, at the
// time the image gives (its createdAt, or its redactedAt); and the same
// record, decoded again, gives the same event. Produce, for its part, makes
// no comment event of any record.
func FuzzProduceComment(f *testing.F) {
	for _, rec := range sampleCommentRecords() {
		b, err := json.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, rec := range sampleRecords() {
		b, _ := json.Marshal(rec)
		f.Add(b)
	}
	f.Add([]byte(`{"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "TICKET#x"}, "sk": {"S": "COMMENT#"}, "BODY": {"N": "12"}, "public": {"NULL": true}}}}`))
	f.Add([]byte(`{"eventName": "MODIFY", "dynamodb": {"NewImage": {"pk": {"S": "TICKET#x"}, "sk": {"S": "COMMENT#c"}, "redactedAt": {"S": "2026-01-01T00:00:00.000Z"}}, "OldImage": {"pk": {"S": "KEY#k"}}}}`))
	f.Add([]byte(`{"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "TICKET#x"}, "sk": {"S": "COMMENT#c"}, "createdAt": {"S": "2026-01-01T00:00:00.000Z"}, "attachments": {"L": [{"M": {"id": {"S": "att_a"}, "filename": {"S": "a.png"}, "contentType": {"S": "image/png"}, "size": {"N": "12"}, "uploadId": {"S": "upl_a"}}}, {"NULL": true}]}}}}`))
	tk := &helpdesk.Ticket{ID: "tkt_cccccccccccccccccccccccc", Subject: "Printer on fire", Status: helpdesk.StatusOpen, Priority: helpdesk.PriorityUrgent,
		Type: helpdesk.TypeIncident, RequesterEmail: "ada@example.com", Tags: []string{}, CustomFields: []helpdesk.CustomFieldValue{},
		CreatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC), Version: 3}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec lambdaevents.DynamoDBEventRecord
		if json.Unmarshal(data, &rec) != nil {
			return
		}
		if ticketEvents, err := webhook.Produce(rec, nil); err == nil {
			for _, ev := range ticketEvents {
				if slices.Contains(commentTypes, ev.Type) {
					t.Fatalf("Produce made %s of a record", ev.Type)
				}
			}
		}
		evs, err := webhook.ProduceComment(rec, tk)
		if err != nil {
			if evs != nil {
				t.Fatalf("ProduceComment returned events with the error %v", err)
			}
			return
		}
		switch {
		case len(evs) > 1:
			t.Fatalf("%d events of one record", len(evs))
		case len(evs) == 0:
			return
		}
		stored := evs[0]
		want := map[string]string{"INSERT": events.TicketCommentCreated, "MODIFY": events.TicketCommentRedacted}[rec.EventName]
		if stored.Type != want {
			t.Fatalf("a %q record gave %s", rec.EventName, stored.Type)
		}
		ev := checkCommentEvent(t, stored)
		if !reflect.DeepEqual(ev.Data.Ticket, view.Ticket(tk)) {
			t.Fatalf("the event shows the ticket\n%+v\nwant\n%+v", ev.Data.Ticket, view.Ticket(tk))
		}
		c := imageComment(t, rec.Change.NewImage)
		if c.CreatedAt == "" {
			// Not an image the store writes; what the event shows then is
			// left open, but it must be a time.
			if !apiTime.MatchString(ev.Data.Comment.CreatedAt) {
				t.Fatalf("createdAt %q", ev.Data.Comment.CreatedAt)
			}
			c.CreatedAt = ev.Data.Comment.CreatedAt
		}
		if !reflect.DeepEqual(*ev.Data.Comment, c) {
			t.Fatalf("the event shows the comment\n%+v\nthe image holds\n%+v", *ev.Data.Comment, c)
		}
		at := c.CreatedAt
		if stored.Type == events.TicketCommentRedacted {
			if c.RedactedAt == nil {
				t.Fatal("ticket.comment.redacted of a comment that is not redacted")
			}
			// Never before the comment it redacts: the redacting
			// function's clock may be behind the writer's.
			at = max(*c.RedactedAt, c.CreatedAt)
			if old, ok := rec.Change.OldImage[attrName(rec.Change.OldImage, "redactedAt")]; ok && stringValue(old) != "" && isComment(rec.Change.OldImage) {
				t.Fatalf("ticket.comment.redacted of a comment redacted already (%s)", stringValue(old))
			}
		}
		if got := ev.Timestamp.UTC().Format(helpdesk.TimeLayout); got != at {
			t.Fatalf("%s at %s, want the image's %s", stored.Type, got, at)
		}

		again, err := webhook.ProduceComment(rec, tk)
		if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0], stored) {
			t.Fatalf("the same record gave %v, %v; first %+v", again, err, stored)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return
		}
		var redelivered lambdaevents.DynamoDBEventRecord
		if err := json.Unmarshal(b, &redelivered); err != nil {
			t.Fatalf("a record does not decode from its own encoding %s: %v", b, err)
		}
		again, err = webhook.ProduceComment(redelivered, tk)
		if err != nil || len(again) != 1 || again[0].ID != stored.ID || again[0].Type != stored.Type {
			t.Fatalf("the record decoded again gave %v, %v; first %s %s", again, err, stored.Type, stored.ID)
		}
	})
}

// checkCommentEvent fails unless a stored comment event has an id of the
// documented shape and a body that events.Parse accepts, signed, as the
// event stored beside it, with a comment and no previous values. It
// returns the event decoded.
func checkCommentEvent(t *testing.T, stored *helpdesk.StoredEvent) *events.Event {
	t.Helper()
	if !slices.Contains(commentTypes, stored.Type) || !eventIDPattern.MatchString(stored.ID) {
		t.Fatalf("type %q, id %q", stored.Type, stored.ID)
	}
	ev, err := signAndParse(t, events.NewSecret(), stored)
	if err != nil {
		t.Fatalf("events.Parse: %v\n%s", err, stored.Body)
	}
	if ev.ID != stored.ID || ev.Type != stored.Type || !ev.Timestamp.Equal(stored.CreatedAt) {
		t.Fatalf("the body says %s %s at %v, stored as %s %s at %v", ev.Type, ev.ID, ev.Timestamp, stored.Type, stored.ID, stored.CreatedAt)
	}
	if ev.Data.Comment == nil || ev.Data.Previous != nil {
		t.Fatalf("%s with comment %v and previous %v", ev.Type, ev.Data.Comment, ev.Data.Previous)
	}
	return ev
}

// attrName returns the name under which image holds the attribute name,
// ignoring case as the SDK's decoder matches attributes to fields; "" if
// there is none.
func attrName(image map[string]lambdaevents.DynamoDBAttributeValue, name string) string {
	for k := range image {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// stringValue is the text of a string or number attribute (the SDK's
// decoder puts either into a string field), "" for any other.
func stringValue(v lambdaevents.DynamoDBAttributeValue) string {
	switch v.DataType() {
	case lambdaevents.DataTypeString:
		return v.String()
	case lambdaevents.DataTypeNumber:
		return v.Number()
	}
	return ""
}

// isComment reports whether an image is a comment's: in a ticket's
// partition, under a COMMENT# sort key.
func isComment(image map[string]lambdaevents.DynamoDBAttributeValue) bool {
	pk, okP := image["pk"]
	sk, okS := image["sk"]
	return okP && okS && pk.DataType() == lambdaevents.DataTypeString && sk.DataType() == lambdaevents.DataTypeString &&
		strings.HasPrefix(pk.String(), "TICKET#") && strings.HasPrefix(sk.String(), "COMMENT#")
}

// imageComment is the comment a comment's image holds, as the API shows
// it, read from the image's attributes by the store's names: a string
// member from a string (or number) attribute, "" when absent or null; an
// author from a non-empty one, null otherwise; public from a boolean,
// false when absent or null; redactedAt null unless non-empty. It fails
// the test on an attribute no decoder should have taken.
func imageComment(t *testing.T, image map[string]lambdaevents.DynamoDBAttributeValue) events.Comment {
	t.Helper()
	if !isComment(image) {
		t.Fatalf("an event of an image that is not a comment's: %v", image)
	}
	str := func(name string) string {
		k := attrName(image, name)
		if k == "" {
			return ""
		}
		switch v := image[k]; v.DataType() {
		case lambdaevents.DataTypeString, lambdaevents.DataTypeNumber, lambdaevents.DataTypeNull:
			return stringValue(v)
		default:
			t.Fatalf("an event of a comment whose %s is of type %v", k, v.DataType())
		}
		return ""
	}
	opt := func(name string) *string {
		if s := str(name); s != "" {
			return &s
		}
		return nil
	}
	public := false
	if k := attrName(image, "public"); k != "" {
		switch v := image[k]; v.DataType() {
		case lambdaevents.DataTypeBoolean:
			public = v.Boolean()
		case lambdaevents.DataTypeNull:
		default:
			t.Fatalf("an event of a comment whose %s is of type %v", k, v.DataType())
		}
	}
	return events.Comment{
		ID: str("id"), TicketID: str("ticketId"), Body: str("body"), Public: public,
		AuthorID: opt("authorId"), AuthorEmail: opt("authorEmail"), AuthorName: opt("authorName"),
		CreatedAt: str("createdAt"), RedactedAt: opt("redactedAt"), Attachments: imageAttachments(t, image),
	}
}

// imageAttachments are the attachments a comment's image lists: what an
// event may show of each, never a URL.
func imageAttachments(t *testing.T, image map[string]lambdaevents.DynamoDBAttributeValue) []events.Attachment {
	t.Helper()
	out := []events.Attachment{}
	k := attrName(image, "attachments")
	if k == "" || image[k].DataType() == lambdaevents.DataTypeNull {
		return out
	}
	if image[k].DataType() != lambdaevents.DataTypeList {
		t.Fatalf("an event of a comment whose attachments are of type %v", image[k].DataType())
	}
	for _, el := range image[k].List() {
		var a events.Attachment
		if el.DataType() == lambdaevents.DataTypeMap {
			m := el.Map()
			get := func(name string) string {
				if k := attrName(m, name); k != "" {
					return stringValue(m[k])
				}
				return ""
			}
			a = events.Attachment{ID: get("id"), Filename: get("filename"), ContentType: get("contentType")}
			if size := get("size"); size != "" {
				n, err := strconv.ParseInt(size, 10, 64)
				if err != nil {
					t.Fatalf("an event of an attachment whose size is %q", size)
				}
				a.Size = n
			}
		}
		out = append(out, a)
	}
	return out
}

// sampleCommentRecords returns stream records of a comment's life: its
// insertion, its redaction, a modification that redacts nothing, a second
// redaction, its purge, and an insertion without the new image.
func sampleCommentRecords() []lambdaevents.DynamoDBEventRecord {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123_000_000, time.UTC)
	c := &helpdesk.Comment{ID: helpdesk.NewCommentID(at), TicketID: "tkt_bbbbbbbbbbbbbbbbbbbbbbbb", Body: "Have you tried turning it off and on again?",
		Public: true, AuthorID: "usr_alice", CreatedAt: at}
	note := *c
	note.ID, note.Body, note.Public = helpdesk.NewCommentID(at), "Escalated.", false
	customer := *c
	customer.ID, customer.AuthorID, customer.AuthorEmail, customer.AuthorName = helpdesk.NewCommentID(at), "", "ada@example.com", "Ada Lovelace"
	redacted := *c
	redacted.Body, redacted.RedactedAt = "", at.Add(time.Hour)
	later := redacted
	later.RedactedAt = at.Add(2 * time.Hour)
	return []lambdaevents.DynamoDBEventRecord{
		commentRecord("c1", "INSERT", nil, c),
		commentRecord("c2", "INSERT", nil, &note),
		commentRecord("c3", "INSERT", nil, &customer),
		commentRecord("c4", "MODIFY", c, &redacted),
		commentRecord("c5", "MODIFY", c, c),
		commentRecord("c6", "MODIFY", &redacted, &later),
		commentRecord("c7", "REMOVE", &redacted, nil),
		commentRecord("c8", "INSERT", nil, nil),
	}
}

// commentRecord returns a record as Lambda delivers it for a change of a
// comment from oldC to newC (nil: no such image).
func commentRecord(eventID, operation string, oldC, newC *helpdesk.Comment) lambdaevents.DynamoDBEventRecord {
	c := newC
	if c == nil {
		c = oldC
	}
	if c == nil {
		c = &helpdesk.Comment{ID: "cmt_unknown", TicketID: "tkt_unknown"}
	}
	rec := lambdaevents.DynamoDBEventRecord{
		EventID: eventID, EventName: operation, EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		Change: lambdaevents.DynamoDBStreamRecord{
			ApproximateCreationDateTime: lambdaevents.SecondsEpochTime{Time: c.CreatedAt.Truncate(time.Second)},
			Keys: map[string]lambdaevents.DynamoDBAttributeValue{
				"pk": lambdaevents.NewStringAttribute("TICKET#" + c.TicketID), "sk": lambdaevents.NewStringAttribute("COMMENT#" + c.ID),
			},
			SequenceNumber: "200" + eventID, SizeBytes: 256, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
	if oldC != nil {
		rec.Change.OldImage = commentImage(oldC)
	}
	if newC != nil {
		rec.Change.NewImage = commentImage(newC)
	}
	return rec
}

// commentImage is a comment item as the stream shows it, with the
// attribute names the store writes (empty optional members left out).
func commentImage(c *helpdesk.Comment) map[string]lambdaevents.DynamoDBAttributeValue {
	s := lambdaevents.NewStringAttribute
	img := map[string]lambdaevents.DynamoDBAttributeValue{
		"pk": s("TICKET#" + c.TicketID), "sk": s("COMMENT#" + c.ID), "id": s(c.ID), "ticketId": s(c.TicketID),
		"body": s(c.Body), "public": lambdaevents.NewBooleanAttribute(c.Public), "createdAt": s(c.CreatedAt.UTC().Format(helpdesk.TimeLayout)),
	}
	for k, v := range map[string]string{"authorId": c.AuthorID, "authorEmail": c.AuthorEmail, "authorName": c.AuthorName} {
		if v != "" {
			img[k] = s(v)
		}
	}
	if !c.RedactedAt.IsZero() {
		img["redactedAt"] = s(c.RedactedAt.UTC().Format(helpdesk.TimeLayout))
	}
	return img
}

// FuzzCommentRecords produces the events of the records a comment writes
// to the stream: its insertion, together with its ticket's change in the
// same transaction, then a modification (its redaction, or one that
// redacts nothing) and its purge with the ticket. It checks them against
// the contract, stated here on the comment and the tickets:
//   - the comment's insertion causes exactly one ticket.comment.created, at
//     the comment's createdAt, showing the comment and the ticket as the
//     comment left it;
//   - the ticket's change (updatedAt becomes the comment's createdAt, the
//     version and the comment count go up, and a customer's comment reopens
//     a pending or resolved ticket) causes a ticket.updated with the
//     previous status exactly when the status changed, and nothing else: a
//     plain comment sends no ticket.updated;
//   - a modification that redacts the comment causes exactly one
//     ticket.comment.redacted, at the redaction's time; any other
//     modification, and the purge, cause nothing;
//   - neither function makes the other's events.
func FuzzCommentRecords(f *testing.F) {
	f.Add(byte(2), true, true, "Still broken.", "ada@example.com", "Ada", int64(1_767_225_600_123), uint32(5000), uint16(3), byte(0), "e1")
	f.Add(byte(2), false, false, "Escalated.", "usr_alice", "", int64(1_767_225_600_123), uint32(1), uint16(0), byte(1), "e2")
	f.Add(byte(3), true, false, "", "a@b.co", "", int64(0), uint32(0), uint16(4999), byte(2), "e3")
	f.Add(byte(1), true, true, " x ", "ada@example.com", "\xff", int64(253_402_300_799_000), uint32(999_999), uint16(1), byte(3), "")
	f.Add(byte(4), false, true, "\u00e9", "usr_b", "", int64(-1), uint32(7), uint16(65535), byte(0), "e5")
	f.Fuzz(func(t *testing.T, status byte, byCustomer, public bool, body, author, name string, createdMS int64, delta uint32, count uint16,
		change byte, eventID string) {
		// DynamoDB strings are UTF-8; times the store writes run from 1970
		// to the end of year 9999, to the millisecond.
		clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		const lastMS = 253_402_300_799_999
		gap := time.Duration(delta%1_000_000+1) * time.Millisecond
		at := time.UnixMilli(int64(uint64(createdMS)%(lastMS-2*1_000_000)) + 1_000_000).UTC()
		eventID = clean(eventID)

		oldT := &helpdesk.Ticket{ID: "tkt_dddddddddddddddddddddddd", Subject: "Cannot log in", Status: helpdesk.Statuses[int(status)%len(helpdesk.Statuses)],
			Priority: helpdesk.PriorityNormal, Type: helpdesk.TypeQuestion, AssigneeID: "usr_alice", RequesterEmail: "ada@example.com",
			Tags: []string{"login"}, CustomFields: []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}},
			CreatedAt: at.Add(-2 * gap), UpdatedAt: at.Add(-gap), Version: int64(count) + 1, Comments: int(count)}
		c := &helpdesk.Comment{ID: helpdesk.NewCommentID(at), TicketID: oldT.ID, Body: clean(body), Public: public || byCustomer, CreatedAt: at}
		if byCustomer {
			c.AuthorEmail, c.AuthorName = clean(author), clean(name)
		} else {
			c.AuthorID = clean(author)
		}
		newT := oldT.Clone()
		if byCustomer && (oldT.Status == helpdesk.StatusPending || oldT.Status == helpdesk.StatusResolved) {
			newT.Status = helpdesk.StatusOpen
		}
		newT.UpdatedAt, newT.Version, newT.Comments = at, oldT.Version+1, oldT.Comments+1

		// The transaction: the ticket's change …
		ticketRec := streamRecord(eventID+"/t", "MODIFY", at.Truncate(time.Second), oldT, newT, true, true, true, true)
		rec := ticketRec
		rec.Change.OldImage["comments"] = lambdaevents.NewNumberAttribute(strconv.Itoa(oldT.Comments))
		rec.Change.NewImage["comments"] = lambdaevents.NewNumberAttribute(strconv.Itoa(newT.Comments))
		got := checkEvents(t, rec, produce(t, rec))
		if oldT.Status != newT.Status {
			if len(got) != 1 || got[0].Type != events.TicketUpdated || !reflect.DeepEqual(got[0].Data.Previous, map[string]any{"status": string(oldT.Status)}) ||
				!reflect.DeepEqual(got[0].Data.Ticket, view.Ticket(newT)) || !got[0].Timestamp.Equal(at) {
				t.Fatalf("a customer's comment reopening a %s ticket gave %+v", oldT.Status, got)
			}
		} else if len(got) != 0 {
			t.Fatalf("a comment that left the ticket %s gave %+v: a comment alone sends no ticket.updated", oldT.Status, got)
		}
		if evs, err := webhook.ProduceComment(rec, newT); err != nil || len(evs) != 0 {
			t.Fatalf("ProduceComment of the ticket's record: %v, %v", evs, err)
		}

		// … and the comment's insertion.
		insert := commentRecord(eventID, "INSERT", nil, c)
		created := produceComment(t, insert, newT)
		if len(created) != 1 || created[0].Type != events.TicketCommentCreated || !created[0].Timestamp.Equal(at) ||
			!reflect.DeepEqual(*created[0].Data.Comment, expectedComment(c)) || !reflect.DeepEqual(created[0].Data.Ticket, view.Ticket(newT)) {
			t.Fatalf("the comment's insertion gave %+v; want ticket.comment.created at %v of %+v", created, at, expectedComment(c))
		}
		if evs := produce(t, insert); len(evs) != 0 {
			t.Fatalf("Produce of the comment's insertion gave %d events", len(evs))
		}

		// A later change of the comment, then its purge.
		redacted := *c
		redacted.Body, redacted.RedactedAt = "", at.Add(gap)
		var before, after *helpdesk.Comment
		switch change % 4 {
		case 0: // the redaction
			before, after = c, &redacted
		case 1: // a modification that redacts nothing
			before, after = c, c
		case 2: // redacted again, later
			again := redacted
			again.RedactedAt = redacted.RedactedAt.Add(gap)
			before, after = &redacted, &again
		case 3: // the redaction, without the old image
			before, after = nil, &redacted
		}
		modify := commentRecord(eventID, "MODIFY", before, after)
		evs := produceComment(t, modify, newT)
		if change%4 == 0 || change%4 == 3 {
			if len(evs) != 1 || evs[0].Type != events.TicketCommentRedacted || !evs[0].Timestamp.Equal(redacted.RedactedAt) ||
				!reflect.DeepEqual(*evs[0].Data.Comment, expectedComment(&redacted)) || evs[0].ID == created[0].ID {
				t.Fatalf("the redaction gave %+v; want ticket.comment.redacted at %v of %+v", evs, redacted.RedactedAt, expectedComment(&redacted))
			}
		} else if len(evs) != 0 {
			t.Fatalf("a modification that redacts nothing (case %d) gave %+v", change%4, evs)
		}
		purge := commentRecord(eventID+"/p", "REMOVE", after, nil)
		if evs := produceComment(t, purge, newT); len(evs) != 0 {
			t.Fatalf("the purge gave %+v", evs)
		}
		if evs := produce(t, purge); len(evs) != 0 {
			t.Fatalf("Produce of the purge gave %d events", len(evs))
		}
	})
}

// produceComment returns the comment events of rec shown with t, checked
// (checkCommentEvent) and decoded, failing the test on an error.
func produceComment(t *testing.T, rec lambdaevents.DynamoDBEventRecord, tk *helpdesk.Ticket) []events.Event {
	t.Helper()
	evs, err := webhook.ProduceComment(rec, tk)
	if err != nil {
		t.Fatalf("ProduceComment(%s %s): %v", rec.EventName, rec.EventID, err)
	}
	out := make([]events.Event, len(evs))
	for i, ev := range evs {
		out[i] = *checkCommentEvent(t, ev)
	}
	return out
}

// expectedComment is c as the API and its events show it, written out
// again: authors and redactedAt null when empty, times in UTC to the
// millisecond.
func expectedComment(c *helpdesk.Comment) events.Comment {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	const layout = "2006-01-02T15:04:05.000Z"
	out := events.Comment{ID: c.ID, TicketID: c.TicketID, Body: c.Body, Public: c.Public,
		AuthorID: opt(c.AuthorID), AuthorEmail: opt(c.AuthorEmail), AuthorName: opt(c.AuthorName), CreatedAt: c.CreatedAt.UTC().Format(layout)}
	if !c.RedactedAt.IsZero() {
		out.RedactedAt = opt(c.RedactedAt.UTC().Format(layout))
	}
	// Events list each attachment's metadata, never a URL.
	out.Attachments = []events.Attachment{}
	for _, a := range c.Attachments {
		out.Attachments = append(out.Attachments, events.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
	}
	return out
}

// signAndParse signs a stored event as a delivery is signed now, and reads
// it back as a receiver would, with events.Parse.
func signAndParse(t *testing.T, secret string, stored *helpdesk.StoredEvent) (*events.Event, error) {
	t.Helper()
	now := time.Now()
	sig, err := events.Sign(secret, stored.ID, now, stored.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(events.HeaderID, stored.ID)
	h.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(events.HeaderSignature, sig)
	return events.Parse(secret, h, stored.Body)
}

// FuzzDroppedAttachments feeds arbitrary stream records to what tells the
// stream's consumer which files to delete. It may name only attachments
// the old image of a comment lists and the new image does not: a file
// still shown must never be deleted.
func FuzzDroppedAttachments(f *testing.F) {
	for _, rec := range sampleCommentRecords() {
		b, _ := json.Marshal(rec)
		f.Add(b)
	}
	att := func(id string) string {
		return `{"M": {"id": {"S": "` + id + `"}, "filename": {"S": "a"}, "contentType": {"S": "text/plain"}, "size": {"N": "1"}, "uploadId": {"S": "upl_x"}}}`
	}
	old := `{"pk": {"S": "TICKET#tkt_x"}, "sk": {"S": "COMMENT#c"}, "ticketId": {"S": "tkt_x"}, "createdAt": {"S": "2026-01-01T00:00:00.000Z"}, "attachments": {"L": [` + att("att_a") + `, ` + att("att_b") + `]}}`
	f.Add([]byte(`{"eventName": "MODIFY", "dynamodb": {"OldImage": ` + old + `, "NewImage": {"pk": {"S": "TICKET#tkt_x"}, "sk": {"S": "COMMENT#c"}, "ticketId": {"S": "tkt_x"}, "createdAt": {"S": "2026-01-01T00:00:00.000Z"}, "redactedAt": {"S": "2026-01-02T00:00:00.000Z"}}}}`))
	f.Add([]byte(`{"eventName": "REMOVE", "dynamodb": {"OldImage": ` + old + `}}`))
	f.Add([]byte(`{"eventName": "MODIFY", "dynamodb": {"OldImage": ` + old + `, "NewImage": ` + old + `}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec lambdaevents.DynamoDBEventRecord
		if json.Unmarshal(data, &rec) != nil {
			return
		}
		ticketID, ids, err := dynamo.DroppedAttachments(rec)
		if err != nil || len(ids) == 0 {
			return
		}
		if !isComment(rec.Change.OldImage) {
			t.Fatalf("files dropped by a record whose old image is no comment: %v", ids)
		}
		if k := attrName(rec.Change.OldImage, "ticketId"); k == "" || stringValue(rec.Change.OldImage[k]) != ticketID {
			t.Fatalf("files of ticket %q dropped by a comment of another", ticketID)
		}
		listed := func(image map[string]lambdaevents.DynamoDBAttributeValue) []string {
			var out []string
			if len(image) == 0 || !isComment(image) {
				return nil
			}
			for _, a := range imageAttachments(t, image) {
				out = append(out, a.ID)
			}
			return out
		}
		before, after := listed(rec.Change.OldImage), listed(rec.Change.NewImage)
		for _, id := range ids {
			if !slices.Contains(before, id) || slices.Contains(after, id) {
				t.Fatalf("dropped %q: the old image lists %v, the new %v", id, before, after)
			}
		}
	})
}
