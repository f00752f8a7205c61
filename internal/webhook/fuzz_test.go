package webhook_test

import (
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
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
	for _, rec := range sampleRecords() {
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
		evs, err := webhook.Produce(rec)
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
		again, err := webhook.Produce(redelivered)
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
		if math.IsNaN(cfNumber) || math.IsInf(cfNumber, 0) {
			return // DynamoDB numbers are finite
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
			newT.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: cfNumber}}
		case 3:
			newT.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}, {ID: "cf_b", Value: cfNumber > 0}}
		}
		newT.UpdatedAt = oldT.UpdatedAt.Add(time.Duration(delta%997) * time.Millisecond)
		newT.Version = 2

		operation := []string{"INSERT", "MODIFY", "REMOVE", "UNKNOWN"}[op&3]
		withOld, withNew, ticketKeys, ticketOld := op&4 == 0, op&8 == 0, op&16 == 0, op&32 == 0
		rec := streamRecord(clean(eventID), operation, approxAt, oldT, &newT, withOld, withNew, ticketKeys, ticketOld)
		evs, err := webhook.Produce(rec)
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
		now := time.Now()
		sig, err := events.Sign(secret, ev.ID, now, ev.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(events.HeaderID, ev.ID)
		h.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(events.HeaderSignature, sig)
		parsed, err := events.Parse(secret, h, ev.Body)
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
	again, err := webhook.Produce(rec)
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
		CustomFields: []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "x"}, {ID: "cf_b", Value: 2.5}, {ID: "cf_c", Value: true}},
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
		case float64:
			v = lambdaevents.NewNumberAttribute(strconv.FormatFloat(x, 'g', -1, 64))
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
