package events_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
)

func TestTypes(t *testing.T) {
	want := []string{"ticket.created", "ticket.updated", "ticket.assignment.changed", "ticket.deleted", "ticket.comment.created", "ticket.comment.redacted", "ticket.restored", "ticket.purged"}
	if !slices.Equal(events.Types, want) {
		t.Errorf("Types = %q, want %q", events.Types, want)
	}
	consts := []string{events.TicketCreated, events.TicketUpdated, events.TicketAssignmentChanged, events.TicketDeleted, events.TicketCommentCreated, events.TicketCommentRedacted, events.TicketRestored, events.TicketPurged}
	if !slices.Equal(consts, want) {
		t.Errorf("constants = %q, want %q", consts, want)
	}
}

func TestKnown(t *testing.T) {
	for _, typ := range events.Types {
		if !events.Known(typ) {
			t.Errorf("Known(%q) = false, want true", typ)
		}
	}
	for _, typ := range []string{"", "ticket", "ticket.", "Ticket.Created", "ticket.created ", "ticket.assignment", "ticket.trashed"} {
		if events.Known(typ) {
			t.Errorf("Known(%q) = true, want false", typ)
		}
	}
}

var (
	eventIDPattern     = regexp.MustCompile(`^evt_[a-z0-9]{26}$`)
	ticketIDPattern    = regexp.MustCompile(`^tkt_[a-z2-7]{24}$`)
	customIDPattern    = regexp.MustCompile(`^cf_[a-z2-7]{24}$`)
	apiTimePattern     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	withPrevious       = map[string]bool{events.TicketUpdated: true, events.TicketAssignmentChanged: true}
	examplePayloadGlob = filepath.Join("testdata", "*.json")
)

// TestExamplePayloads checks that each example payload in testdata is exactly
// what the Event type describes: it decodes with no unknown field and encodes
// back to the same JSON.
func TestExamplePayloads(t *testing.T) {
	files, err := filepath.Glob(examplePayloadGlob)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, file := range files {
		typ := strings.TrimSuffix(filepath.Base(file), ".json")
		seen = append(seen, typ)
		t.Run(typ, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var ev events.Event
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("decoding into Event: %v", err)
			}
			if dec.More() {
				t.Fatal("data after the event")
			}
			if !events.Known(ev.Type) || ev.Type != typ {
				t.Errorf("type = %q, want the known type %q named by the file", ev.Type, typ)
			}

			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := decodeAny(t, again), decodeAny(t, raw); !reflect.DeepEqual(got, want) {
				t.Errorf("re-encoded payload differs from the file\n got: %s\nwant: %s", again, compact(t, raw))
			}

			checkRealistic(t, &ev)
		})
	}
	for _, typ := range events.Types {
		if !slices.Contains(seen, typ) {
			t.Errorf("no example payload %s for %q", filepath.Join("testdata", typ+".json"), typ)
		}
	}
}

// checkRealistic checks the example's values against the API's formats.
func checkRealistic(t *testing.T, ev *events.Event) {
	t.Helper()
	if !eventIDPattern.MatchString(ev.ID) {
		t.Errorf("id = %q, want evt_ and 26 lowercase characters", ev.ID)
	}
	if ev.Timestamp.IsZero() || ev.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp = %v, want a UTC time", ev.Timestamp)
	}
	if ev.Type == events.TicketPurged {
		// A purge names the ticket and repeats nothing of it.
		if !ticketIDPattern.MatchString(ev.Data.TicketID) || !reflect.ValueOf(ev.Data.Ticket).IsZero() || ev.Data.Comment != nil || ev.Data.Previous != nil {
			t.Errorf("ticket.purged data = %+v, want only a ticketId", ev.Data)
		}
		return
	}
	if ev.Data.TicketID != "" {
		t.Errorf("ticketId = %q on %s, want it only on ticket.purged", ev.Data.TicketID, ev.Type)
	}
	tk := ev.Data.Ticket
	if !ticketIDPattern.MatchString(tk.ID) {
		t.Errorf("ticket id = %q, want tkt_ and 24 lowercase base32 characters", tk.ID)
	}
	if tk.Subject == "" || tk.Status == "" || tk.Priority == "" || tk.Type == "" {
		t.Errorf("ticket %+v lacks a subject, status, priority or type", tk)
	}
	if tk.Tags == nil || tk.CustomFields == nil {
		t.Errorf("ticket tags %v or customFields %v is null, want a list", tk.Tags, tk.CustomFields)
	}
	for _, cf := range tk.CustomFields {
		if !customIDPattern.MatchString(cf.ID) {
			t.Errorf("custom field id = %q, want cf_ and 24 lowercase base32 characters", cf.ID)
		}
	}
	for name, v := range map[string]string{"createdAt": tk.CreatedAt, "updatedAt": tk.UpdatedAt} {
		if !apiTimePattern.MatchString(v) {
			t.Errorf("ticket %s = %q, want RFC 3339 UTC with milliseconds", name, v)
		}
	}
	if tk.UpdatedAt < tk.CreatedAt {
		t.Errorf("ticket updatedAt %s is before createdAt %s", tk.UpdatedAt, tk.CreatedAt)
	}
	if withPrevious[ev.Type] != (len(ev.Data.Previous) > 0) {
		t.Errorf("previous = %v; want it present only for %v", ev.Data.Previous, withPrevious)
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPreviousValues pins how old values decode for receivers: a null old
// value is a present key with a nil value, lists are []any.
func TestPreviousValues(t *testing.T) {
	for file, want := range map[string]map[string]any{
		"ticket.assignment.changed.json": {"assigneeId": nil},
		"ticket.updated.json":            {"status": "new", "tags": []any{"billing"}},
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ev.Data.Previous, want) {
			t.Errorf("%s: previous = %#v, want %#v", file, ev.Data.Previous, want)
		}
	}
}

// TestEventEncoding checks the field names and null handling the dispatcher
// gets when it encodes an Event built in Go.
func TestEventEncoding(t *testing.T) {
	usr := "usr_abc123"
	ev := events.Event{
		ID:        "evt_5nwxwizwpweklajt7xyitgvzge",
		Type:      events.TicketCreated,
		Timestamp: time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC),
		Data: events.Data{Ticket: events.Ticket{
			ID: "tkt_kokoknite3yzp7htixhgxn7w", Subject: "s", Status: "new", Priority: "normal", Type: "question",
			AssigneeID: &usr, Tags: []string{}, CustomFields: []events.CustomFieldValue{{ID: "cf_a", Value: 42.5}},
			CreatedAt: "2026-11-25T10:00:00.123Z", UpdatedAt: "2026-11-25T10:00:00.123Z",
		}},
	}
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.created","timestamp":"2026-11-25T10:00:00.123Z",` +
		`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","subject":"s","status":"new","priority":"normal","type":"question",` +
		`"assigneeId":"usr_abc123","requesterEmail":null,"requesterName":null,"tags":[],"customFields":[{"id":"cf_a","value":42.5}],` +
		`"createdAt":"2026-11-25T10:00:00.123Z","updatedAt":"2026-11-25T10:00:00.123Z"}}}`
	if string(got) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
}
