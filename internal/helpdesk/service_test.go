package helpdesk_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// fakeTickets is an in-memory TicketStore that counts its calls.
type fakeTickets struct {
	tickets   map[string]*helpdesk.Ticket
	createErr error // returned by CreateTicket when set
	// lost is how many times UpdateTicket loses a race before its write
	// lands: fn is called once per attempt on a fresh copy.
	lost int

	creates, updates, writes, reads int
}

func newFakeTickets(tickets ...*helpdesk.Ticket) *fakeTickets {
	f := &fakeTickets{tickets: map[string]*helpdesk.Ticket{}}
	for _, t := range tickets {
		f.tickets[t.ID] = t.Clone()
	}
	return f
}

func (f *fakeTickets) CreateTicket(_ context.Context, t *helpdesk.Ticket, _ *helpdesk.Completion) error {
	f.creates++
	if f.createErr != nil {
		return f.createErr
	}
	if _, ok := f.tickets[t.ID]; ok {
		return helpdesk.Errorf(helpdesk.CodeConflict, "taken")
	}
	f.tickets[t.ID] = t.Clone()
	return nil
}

func (f *fakeTickets) Ticket(_ context.Context, id string) (*helpdesk.Ticket, error) {
	f.reads++
	t, ok := f.tickets[id]
	if !ok {
		return nil, helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found.")
	}
	return t.Clone(), nil
}

func (f *fakeTickets) UpdateTicket(_ context.Context, id string, fn func(t *helpdesk.Ticket) (bool, error)) (*helpdesk.Ticket, error) {
	f.updates++
	stored, ok := f.tickets[id]
	if !ok {
		return nil, helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found.")
	}
	var t *helpdesk.Ticket
	var changed bool
	for range f.lost + 1 {
		t = stored.Clone()
		var err error
		if changed, err = fn(t); err != nil {
			return nil, err
		}
	}
	if !changed {
		return stored.Clone(), nil
	}
	f.writes++
	t.Version++
	f.tickets[id] = t.Clone()
	return t, nil
}

func (f *fakeTickets) DeleteTicket(context.Context, string, helpdesk.Precondition, helpdesk.Stamp) error {
	return errors.New("fakeTickets.DeleteTicket: not used by these tests")
}

func (f *fakeTickets) ListTickets(context.Context, helpdesk.ListQuery) (*helpdesk.TicketPage, error) {
	return nil, errors.New("fakeTickets.ListTickets: not used by these tests")
}

// fakeFields is an in-memory CustomFieldStore that records CustomFieldsByID
// calls.
type fakeFields struct {
	defs    map[string]*helpdesk.CustomField
	byIDErr error

	byIDCalls [][]string
}

func (f *fakeFields) CustomFieldsByID(_ context.Context, ids []string) (map[string]*helpdesk.CustomField, error) {
	f.byIDCalls = append(f.byIDCalls, slices.Clone(ids))
	if f.byIDErr != nil {
		return nil, f.byIDErr
	}
	found := map[string]*helpdesk.CustomField{}
	for _, id := range ids {
		if d, ok := f.defs[id]; ok {
			found[id] = d
		}
	}
	return found, nil
}

func (f *fakeFields) CreateCustomField(context.Context, *helpdesk.CustomField, *helpdesk.Completion) error {
	return errors.New("fakeFields.CreateCustomField: not used by these tests")
}

func (f *fakeFields) CustomField(context.Context, string) (*helpdesk.CustomField, error) {
	return nil, errors.New("fakeFields.CustomField: not used by these tests")
}

func (f *fakeFields) ListCustomFields(context.Context) ([]*helpdesk.CustomField, error) {
	return nil, errors.New("fakeFields.ListCustomFields: not used by these tests")
}

func (f *fakeFields) UpdateCustomField(context.Context, string, func(*helpdesk.CustomField) (bool, error)) (*helpdesk.CustomField, error) {
	return nil, errors.New("fakeFields.UpdateCustomField: not used by these tests")
}

func (f *fakeFields) DeleteCustomField(context.Context, string) error {
	return errors.New("fakeFields.DeleteCustomField: not used by these tests")
}

// The clock of the service under test: a non-UTC zone and sub-millisecond
// digits, so that both conversions show.
var (
	clock     = time.Date(2026, 3, 4, 6, 7, 8, 123_456_789, time.FixedZone("CET", 3600))
	clockWant = time.Date(2026, 3, 4, 5, 7, 8, 123_000_000, time.UTC)
)

const fakeID = "abcdefghijklmnopqrstuvwx"

// serviceFixture is a Service on fakes, with a fixed clock and ids.
type serviceFixture struct {
	svc      *helpdesk.Service
	tickets  *fakeTickets
	fields   *fakeFields
	prefixes []string // prefixes NewID was asked for
}

func newFixture(tb testing.TB, tickets ...*helpdesk.Ticket) *serviceFixture {
	tb.Helper()
	fx := &serviceFixture{
		tickets: newFakeTickets(tickets...),
		fields: &fakeFields{defs: map[string]*helpdesk.CustomField{
			"cf_text": {ID: "cf_text", Name: "Notes", Type: helpdesk.FieldText},
			"cf_num":  {ID: "cf_num", Name: "Seats", Type: helpdesk.FieldNumber},
			"cf_drop": {ID: "cf_drop", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}},
		}},
	}
	fx.svc = &helpdesk.Service{
		Tickets: fx.tickets,
		Fields:  fx.fields,
		Now:     func() time.Time { return clock },
		NewID: func(prefix string) string {
			fx.prefixes = append(fx.prefixes, prefix)
			return prefix + fakeID
		},
	}
	return fx
}

// stored returns the stored ticket with the given id, failing if none.
func (fx *serviceFixture) stored(tb testing.TB, id string) *helpdesk.Ticket {
	tb.Helper()
	t, ok := fx.tickets.tickets[id]
	if !ok {
		tb.Fatalf("no ticket %q stored; have %v", id, slices.Collect(maps.Keys(fx.tickets.tickets)))
	}
	return t
}

func TestServiceCreateTicketDefaults(t *testing.T) {
	fx := newFixture(t)
	got, err := fx.svc.CreateTicket(context.Background(), &helpdesk.TicketPatch{Subject: new("  Printer on fire ")}, nil, nil)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	want := &helpdesk.Ticket{
		ID:           "tkt_" + fakeID,
		Subject:      "Printer on fire",
		Status:       helpdesk.StatusNew,
		Priority:     helpdesk.PriorityNormal,
		Type:         helpdesk.TypeQuestion,
		Tags:         []string{},
		CustomFields: []helpdesk.CustomFieldValue{},
		CreatedAt:    clockWant,
		UpdatedAt:    clockWant,
		Version:      1,
		ChangedBy:    helpdesk.System, // no actor in the context
	}
	assertTicket(t, got, want)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt is in %v, want UTC", got.CreatedAt.Location())
	}
	if !slices.Equal(fx.prefixes, []string{"tkt_"}) {
		t.Errorf("NewID prefixes = %q, want [tkt_]", fx.prefixes)
	}
	if fx.tickets.creates != 1 {
		t.Errorf("store CreateTicket called %d times, want 1", fx.tickets.creates)
	}
	assertTicket(t, fx.stored(t, want.ID), want)
	if n := len(fx.fields.byIDCalls); n != 0 {
		t.Errorf("CustomFieldsByID called %d times for a create without custom fields, want 0", n)
	}
}

func TestServiceCreateTicketWithEverything(t *testing.T) {
	fx := newFixture(t)
	p := &helpdesk.TicketPatch{
		Subject:        new("Printer on fire"),
		Status:         new(helpdesk.StatusOpen),
		Priority:       new(helpdesk.PriorityUrgent),
		Type:           new(helpdesk.TypeIncident),
		AssigneeID:     set("usr_1"),
		RequesterEmail: set("jane@example.com"),
		RequesterName:  set("Jane"),
		Tags:           new([]string{" fire", "fire", "printer"}),
		CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: helpdesk.Number("3")},
			{ID: "cf_drop", Value: "apac"},
		},
	}
	got, err := fx.svc.CreateTicket(context.Background(), p, nil, nil)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	want := &helpdesk.Ticket{
		ID:             "tkt_" + fakeID,
		Subject:        "Printer on fire",
		Status:         helpdesk.StatusOpen,
		Priority:       helpdesk.PriorityUrgent,
		Type:           helpdesk.TypeIncident,
		AssigneeID:     "usr_1",
		RequesterEmail: "jane@example.com",
		RequesterName:  "Jane",
		Tags:           []string{"fire", "printer"},
		CustomFields: []helpdesk.CustomFieldValue{
			{ID: "cf_num", Value: helpdesk.Number("3")},
			{ID: "cf_drop", Value: "apac"},
		},
		CreatedAt: clockWant,
		UpdatedAt: clockWant,
		Version:   1,
		ChangedBy: helpdesk.System,
	}
	assertTicket(t, got, want)
	assertTicket(t, fx.stored(t, want.ID), want)
	if want := [][]string{{"cf_num", "cf_drop"}}; !reflect.DeepEqual(fx.fields.byIDCalls, want) {
		t.Errorf("CustomFieldsByID calls = %q, want one call %q", fx.fields.byIDCalls, want)
	}
}

func TestServiceCreateTicketRealClockAndIDs(t *testing.T) {
	tickets := newFakeTickets()
	svc := helpdesk.NewService(tickets, &fakeFields{})
	before := time.Now().Add(-time.Millisecond)
	got, err := svc.CreateTicket(context.Background(), &helpdesk.TicketPatch{Subject: new("Hi")}, nil, nil)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	if !helpdesk.ValidTicketID(got.ID) || len(got.ID) != len("tkt_")+24 {
		t.Errorf("ID = %q, want tkt_ and 24 base32 characters", got.ID)
	}
	if got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("CreatedAt = %v, want UTC whole milliseconds", got.CreatedAt)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now()) {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}
}

func TestServiceCreateTicketInvalid(t *testing.T) {
	cases := []struct {
		name     string
		patch    *helpdesk.TicketPatch
		problems helpdesk.Problems // from the caller
		want     []string
	}{
		{"NoSubject", &helpdesk.TicketPatch{}, nil, []string{"ticket.subject"}},
		{"NoSubjectOtherwiseValid", &helpdesk.TicketPatch{Status: new(helpdesk.StatusOpen), Tags: new([]string{"a"})}, nil,
			[]string{"ticket.subject"}},
		{"BlankSubject", &helpdesk.TicketPatch{Subject: new("  ")}, nil, []string{"ticket.subject"}},
		{"SubjectTooLong", &helpdesk.TicketPatch{Subject: new(repeat("é", 501))}, nil, []string{"ticket.subject"}},
		{"BadFields", &helpdesk.TicketPatch{Subject: new("ok"), Status: new(helpdesk.Status("x")), Tags: new([]string{"a", ""})}, nil,
			[]string{"ticket.status", "ticket.tags[1]"}},
		{"UnknownCustomField", &helpdesk.TicketPatch{Subject: new("ok"), CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "a"}, {ID: "cf_nope", Value: "a"},
		}}, nil, []string{"ticket.customFields[1].id"}},
		{"MalformedCustomFieldID", &helpdesk.TicketPatch{Subject: new("ok"), CustomFields: []helpdesk.CustomFieldChange{
			{ID: "Region", Value: "emea"},
		}}, nil, []string{"ticket.customFields[0].id"}},
		{"BadCustomFieldValue", &helpdesk.TicketPatch{Subject: new("ok"), CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_drop", Value: "amer"},
		}}, nil, []string{"ticket.customFields[0].value"}},
		{"RemoveOnCreate", &helpdesk.TicketPatch{Subject: new("ok"), CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "a"}, {ID: "cf_num", Remove: true},
		}}, nil, []string{"ticket.customFields[1].value"}},
		{"CallerProblems", &helpdesk.TicketPatch{Subject: new("ok")},
			helpdesk.Problems{{Field: "ticket.color", Message: "is not a known field"}},
			[]string{"ticket.color"}},
		{"CallerProblemsMerged", &helpdesk.TicketPatch{Subject: new("ok"), Priority: new(helpdesk.Priority("x"))},
			helpdesk.Problems{{Field: "ticket.color", Message: "is not a known field"}, {Field: "ticket.id", Message: "is read-only"}},
			[]string{"ticket.color", "ticket.id", "ticket.priority"}},
		{"CallerProblemForSubject", &helpdesk.TicketPatch{},
			helpdesk.Problems{{Field: "ticket.subject", Message: "must be a string"}},
			[]string{"ticket.subject"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			callerProblems := slices.Clone(tc.problems)
			got, err := fx.svc.CreateTicket(context.Background(), tc.patch, tc.problems, nil)
			if got != nil {
				t.Errorf("CreateTicket returned a ticket %+v with error %v", got, err)
			}
			assertCode(t, err, helpdesk.CodeValidation)
			assertFields(t, helpdesk.ErrorDetails(err), tc.want...)
			if fx.tickets.creates != 0 || len(fx.tickets.tickets) != 0 {
				t.Errorf("store CreateTicket called %d times (%d stored), want never", fx.tickets.creates, len(fx.tickets.tickets))
			}
			if !reflect.DeepEqual(tc.problems, callerProblems) {
				t.Errorf("caller's problems changed to %+v", tc.problems)
			}
		})
	}
}

func TestServiceCreateTicketStoreErrors(t *testing.T) {
	t.Run("CustomFieldsByID", func(t *testing.T) {
		fx := newFixture(t)
		fx.fields.byIDErr = errors.New("definitions unavailable")
		_, err := fx.svc.CreateTicket(context.Background(), value("cf_text", "a"), nil, nil)
		if !errors.Is(err, fx.fields.byIDErr) {
			t.Fatalf("CreateTicket error = %v, want %v", err, fx.fields.byIDErr)
		}
		if fx.tickets.creates != 0 {
			t.Errorf("store CreateTicket called %d times, want never", fx.tickets.creates)
		}
	})
	t.Run("CreateTicket", func(t *testing.T) {
		fx := newFixture(t)
		fx.tickets.createErr = helpdesk.Errorf(helpdesk.CodeConflict, "taken")
		got, err := fx.svc.CreateTicket(context.Background(), &helpdesk.TicketPatch{Subject: new("a")}, nil, nil)
		if got != nil {
			t.Errorf("CreateTicket returned ticket %+v with an error", got)
		}
		assertCode(t, err, helpdesk.CodeConflict)
	})
}

func TestServiceCreateTicketCustomFieldLookups(t *testing.T) {
	cases := []struct {
		name    string
		changes []helpdesk.CustomFieldChange
		want    [][]string // ids of each CustomFieldsByID call
	}{
		{"None", nil, nil},
		{"Empty", []helpdesk.CustomFieldChange{}, nil},
		{"One", []helpdesk.CustomFieldChange{{ID: "cf_text", Value: "a"}}, [][]string{{"cf_text"}}},
		{"Several", []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "a"}, {ID: "cf_num", Value: helpdesk.Number("1")}, {ID: "cf_drop", Value: "emea"},
		}, [][]string{{"cf_text", "cf_num", "cf_drop"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			_, err := fx.svc.CreateTicket(context.Background(), &helpdesk.TicketPatch{Subject: new("a"), CustomFields: tc.changes}, nil, nil)
			if err != nil {
				t.Fatalf("CreateTicket: %v", err)
			}
			if !reflect.DeepEqual(fx.fields.byIDCalls, tc.want) {
				t.Errorf("CustomFieldsByID calls = %q, want %q", fx.fields.byIDCalls, tc.want)
			}
		})
	}
}

func TestServiceUpdateTicketBadID(t *testing.T) {
	ids := []struct{ name, id string }{
		{"Empty", ""},
		{"PrefixOnly", "tkt_"},
		{"UpperPrefix", "TKT_abc"},
		{"UpperBody", "tkt_ABC"},
		{"DigitOutsideBase32", "tkt_abc1"},
		{"OtherPrefix", "cf_abc"},
		{"NoPrefix", "abcdefghijklmnopqrstuvwx"},
		{"TooLong", "tkt_" + repeat("a", 65)},
		{"TrailingNewline", "tkt_abc\n"},
		{"PathTraversal", "tkt_abc/../x"},
	}
	for _, tc := range ids {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, baseTicket())
			// The patch is invalid too: the id is checked first.
			p := &helpdesk.TicketPatch{Status: new(helpdesk.Status("x")), CustomFields: []helpdesk.CustomFieldChange{{ID: "cf_text", Value: "a"}}}
			got, err := fx.svc.UpdateTicket(context.Background(), tc.id, p, nil, helpdesk.Precondition{})
			if got != nil {
				t.Errorf("UpdateTicket returned ticket %+v", got)
			}
			assertCode(t, err, helpdesk.CodeNotFound)
			if fx.tickets.updates != 0 || len(fx.fields.byIDCalls) != 0 {
				t.Errorf("stores called (UpdateTicket %d, CustomFieldsByID %d times), want never",
					fx.tickets.updates, len(fx.fields.byIDCalls))
			}
		})
	}
}

func TestServiceUpdateTicket(t *testing.T) {
	cases := []struct {
		name        string
		patch       *helpdesk.TicketPatch
		want        *helpdesk.Ticket // UpdatedAt and Version are checked apart
		wantChanged bool
	}{
		{"Empty", &helpdesk.TicketPatch{}, baseTicket(), false},
		{"SameStatus", &helpdesk.TicketPatch{Status: new(helpdesk.StatusOpen)}, baseTicket(), false},
		{"SameTags", &helpdesk.TicketPatch{Tags: new([]string{"printer", " fire", "printer"})}, baseTicket(), false},
		{"SameCustomFieldAndRemoveMissing", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: helpdesk.Number("2")}, {ID: "cf_drop", Remove: true},
		}}, baseTicket(), false},
		{"Status", &helpdesk.TicketPatch{Status: new(helpdesk.StatusPending)},
			edited(func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusPending }), true},
		{"Unassign", &helpdesk.TicketPatch{AssigneeID: null()},
			edited(func(t *helpdesk.Ticket) { t.AssigneeID = "" }), true},
		{"CustomFields", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "flames"}, {ID: "cf_drop", Value: "emea"}, {ID: "cf_check", Remove: true},
		}}, edited(func(t *helpdesk.Ticket) {
			t.CustomFields = []helpdesk.CustomFieldValue{
				{ID: "cf_text", Value: "flames"}, {ID: "cf_num", Value: helpdesk.Number("2")}, {ID: "cf_drop", Value: "emea"},
			}
		}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := baseTicket()
			fx := newFixture(t, old)
			agent := helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_agent", Name: "agent desk"}
			got, err := fx.svc.UpdateTicket(helpdesk.WithActor(context.Background(), agent), old.ID, tc.patch, nil, helpdesk.Precondition{})
			if err != nil {
				t.Fatalf("UpdateTicket: %v", err)
			}
			want := tc.want.Clone()
			if tc.wantChanged {
				want.UpdatedAt, want.Version, want.ChangedBy = clockWant, old.Version+1, agent
			}
			assertTicket(t, got, want)
			assertTicket(t, fx.stored(t, old.ID), want)
			wantWrites := 0
			if tc.wantChanged {
				wantWrites = 1
			}
			if fx.tickets.writes != wantWrites {
				t.Errorf("store wrote %d times, want %d", fx.tickets.writes, wantWrites)
			}
		})
	}
}

// TestServiceUpdateTicketRetry checks that each attempt of a contended
// update reads the clock, so the write that lands carries the latest time.
func TestServiceUpdateTicketRetry(t *testing.T) {
	old := baseTicket()
	fx := newFixture(t, old)
	fx.tickets.lost = 2
	tick := clock
	fx.svc.Now = func() time.Time {
		tick = tick.Add(time.Second)
		return tick
	}
	got, err := fx.svc.UpdateTicket(context.Background(), old.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusClosed)}, nil, helpdesk.Precondition{})
	if err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	if want := clockWant.Add(3 * time.Second); !got.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v (the third attempt's time)", got.UpdatedAt, want)
	}
	if got.Status != helpdesk.StatusClosed || !got.CreatedAt.Equal(old.CreatedAt) {
		t.Errorf("ticket = %+v, want status closed and CreatedAt %v", got, old.CreatedAt)
	}
}

func TestServiceUpdateTicketInvalid(t *testing.T) {
	cases := []struct {
		name     string
		patch    *helpdesk.TicketPatch
		problems helpdesk.Problems
		want     []string
	}{
		{"BlankSubject", &helpdesk.TicketPatch{Subject: new(" ")}, nil, []string{"ticket.subject"}},
		{"UnknownCustomField", value("cf_nope", "a"), nil, []string{"ticket.customFields[0].id"}},
		{"CallerProblemsOnly", &helpdesk.TicketPatch{Status: new(helpdesk.StatusClosed)},
			helpdesk.Problems{{Field: "ticket.createdAt", Message: "is read-only"}},
			[]string{"ticket.createdAt"}},
		{"CallerProblemsMerged", &helpdesk.TicketPatch{Status: new(helpdesk.Status("x")), Tags: new([]string{""})},
			helpdesk.Problems{{Field: "ticket.createdAt", Message: "is read-only"}},
			[]string{"ticket.createdAt", "ticket.status", "ticket.tags[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := baseTicket()
			fx := newFixture(t, old)
			got, err := fx.svc.UpdateTicket(context.Background(), old.ID, tc.patch, tc.problems, helpdesk.Precondition{})
			if got != nil {
				t.Errorf("UpdateTicket returned ticket %+v with error %v", got, err)
			}
			assertCode(t, err, helpdesk.CodeValidation)
			assertFields(t, helpdesk.ErrorDetails(err), tc.want...)
			if fx.tickets.updates != 0 {
				t.Errorf("store UpdateTicket called %d times, want never", fx.tickets.updates)
			}
			assertTicket(t, fx.stored(t, old.ID), old)
		})
	}
}

// TestServiceUpdateTicketCustomFieldLimit: values merge into those the
// ticket holds, and the merged ticket keeps the limit too.
func TestServiceUpdateTicketCustomFieldLimit(t *testing.T) {
	full := baseTicket()
	full.CustomFields = nil
	for i := range helpdesk.MaxCustomFieldValues - 1 {
		// Values of definitions deleted since: they stay until removed.
		full.CustomFields = append(full.CustomFields, helpdesk.CustomFieldValue{ID: fmt.Sprintf("cf_old%c%c", 'a'+i/26, 'a'+i%26), Value: "v"})
	}
	full.CustomFields = append(full.CustomFields, helpdesk.CustomFieldValue{ID: "cf_text", Value: "smoke"})
	cases := []struct {
		name  string
		patch *helpdesk.TicketPatch
		ok    bool
	}{
		{"OneMore", value("cf_num", helpdesk.Number("5")), false},
		{"Replace", value("cf_text", "ash"), true},
		{"RemoveOneAddOne", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{{ID: "cf_oldaa", Remove: true}, {ID: "cf_num", Value: helpdesk.Number("5")}}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, full)
			got, err := fx.svc.UpdateTicket(context.Background(), full.ID, tc.patch, nil, helpdesk.Precondition{})
			if tc.ok {
				if err != nil || len(got.CustomFields) != helpdesk.MaxCustomFieldValues {
					t.Fatalf("UpdateTicket = %d values, %v; want %d values", len(got.CustomFields), err, helpdesk.MaxCustomFieldValues)
				}
				return
			}
			assertCode(t, err, helpdesk.CodeValidation)
			assertFields(t, helpdesk.ErrorDetails(err), "ticket.customFields")
			if fx.tickets.writes != 0 {
				t.Errorf("store wrote %d times, want never", fx.tickets.writes)
			}
			assertTicket(t, fx.stored(t, full.ID), full)
		})
	}
}

func TestServiceUpdateTicketLookups(t *testing.T) {
	t.Run("NoCustomFields", func(t *testing.T) {
		old := baseTicket()
		fx := newFixture(t, old)
		if _, err := fx.svc.UpdateTicket(context.Background(), old.ID, &helpdesk.TicketPatch{Subject: new("x")}, nil, helpdesk.Precondition{}); err != nil {
			t.Fatalf("UpdateTicket: %v", err)
		}
		if n := len(fx.fields.byIDCalls); n != 0 {
			t.Errorf("CustomFieldsByID called %d times, want 0", n)
		}
	})
	t.Run("CustomFields", func(t *testing.T) {
		old := baseTicket()
		fx := newFixture(t, old)
		p := &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{{ID: "cf_num", Value: helpdesk.Number("5")}, {ID: "cf_text", Remove: true}}}
		if _, err := fx.svc.UpdateTicket(context.Background(), old.ID, p, nil, helpdesk.Precondition{}); err != nil {
			t.Fatalf("UpdateTicket: %v", err)
		}
		if len(fx.fields.byIDCalls) != 1 || !slices.Contains(fx.fields.byIDCalls[0], "cf_num") {
			t.Errorf("CustomFieldsByID calls = %q, want one call including cf_num", fx.fields.byIDCalls)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		fx := newFixture(t)
		_, err := fx.svc.UpdateTicket(context.Background(), "tkt_"+fakeID, &helpdesk.TicketPatch{Subject: new("x")}, nil, helpdesk.Precondition{})
		assertCode(t, err, helpdesk.CodeNotFound)
		if fx.tickets.updates != 1 {
			t.Errorf("store UpdateTicket called %d times, want 1", fx.tickets.updates)
		}
	})
}

func TestServiceTicketAndDeleteBadID(t *testing.T) {
	fx := newFixture(t, baseTicket())
	if _, err := fx.svc.Ticket(context.Background(), "tkt_ABC"); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		t.Errorf("Ticket(bad id) error = %v, want NOT_FOUND", err)
	}
	if err := fx.svc.DeleteTicket(context.Background(), "nope", helpdesk.Precondition{}); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		t.Errorf("DeleteTicket(bad id) error = %v, want NOT_FOUND", err)
	}
	if fx.tickets.reads != 0 {
		t.Errorf("store read %d times, want never", fx.tickets.reads)
	}
}

// TestServiceUpdateTicketClockBehind: another function's clock may run
// ahead of this one's, so a ticket can show an updatedAt this clock has
// not reached. An update never moves updatedAt back: it takes the
// millisecond after the ticket's, so the ticket's history (ordered by
// when its changes happened) stays in the order of its writes.
func TestServiceUpdateTicketClockBehind(t *testing.T) {
	cases := []struct {
		name string
		prev time.Time // the stored ticket's updatedAt
		want time.Time
	}{
		{"Behind", clockWant.Add(3 * time.Second), clockWant.Add(3*time.Second + time.Millisecond)},
		{"BehindByOneMillisecond", clockWant.Add(time.Millisecond), clockWant.Add(2 * time.Millisecond)},
		// The clock reads 123.456789 ms past the second, after the
		// ticket's 123 ms, but the product's precision makes them equal.
		{"EqualOnceTruncated", clockWant, clockWant.Add(time.Millisecond)},
		{"Ahead", clockWant.Add(-time.Millisecond), clockWant},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := baseTicket()
			old.UpdatedAt = tc.prev
			fx := newFixture(t, old)
			got, err := fx.svc.UpdateTicket(context.Background(), old.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusPending)}, nil, helpdesk.Precondition{})
			if err != nil {
				t.Fatalf("UpdateTicket: %v", err)
			}
			if !got.UpdatedAt.Equal(tc.want) || !fx.stored(t, old.ID).UpdatedAt.Equal(tc.want) {
				t.Errorf("UpdatedAt = %v (stored %v), want %v", got.UpdatedAt, fx.stored(t, old.ID).UpdatedAt, tc.want)
			}
		})
	}
}
