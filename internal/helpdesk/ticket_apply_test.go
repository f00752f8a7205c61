package helpdesk_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var (
	created = time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	updated = time.Date(2026, 1, 3, 3, 4, 5, 6_000_000, time.UTC)
)

// baseTicket returns a fully populated ticket; every call returns a fresh
// copy that shares nothing with earlier ones.
func baseTicket() *helpdesk.Ticket {
	return &helpdesk.Ticket{
		ID:             "tkt_abcdefghijklmnopqrstuvwx",
		Subject:        "Printer on fire",
		Status:         helpdesk.StatusOpen,
		Priority:       helpdesk.PriorityHigh,
		Type:           helpdesk.TypeIncident,
		AssigneeID:     "usr_1",
		RequesterEmail: "jane@example.com",
		RequesterName:  "Jane",
		Tags:           []string{"printer", "fire"},
		CustomFields: []helpdesk.CustomFieldValue{
			{ID: "cf_text", Value: "smoke"},
			{ID: "cf_num", Value: helpdesk.Number("2")},
			{ID: "cf_check", Value: true},
		},
		CreatedAt: created,
		UpdatedAt: updated,
		Version:   7,
	}
}

// edited returns baseTicket changed by fn.
func edited(fn func(t *helpdesk.Ticket)) *helpdesk.Ticket {
	t := baseTicket()
	fn(t)
	return t
}

func TestTicketPatchApply(t *testing.T) {
	cases := []struct {
		name        string
		patch       *helpdesk.TicketPatch
		want        *helpdesk.Ticket
		wantChanged bool
	}{
		{"Empty", &helpdesk.TicketPatch{}, baseTicket(), false},

		{"Subject", &helpdesk.TicketPatch{Subject: new("Printer fixed")},
			edited(func(t *helpdesk.Ticket) { t.Subject = "Printer fixed" }), true},
		{"SubjectTrimmed", &helpdesk.TicketPatch{Subject: new("  Printer fixed \n")},
			edited(func(t *helpdesk.Ticket) { t.Subject = "Printer fixed" }), true},
		{"SubjectSameAfterTrim", &helpdesk.TicketPatch{Subject: new("  Printer on fire  ")}, baseTicket(), false},

		{"StatusSame", &helpdesk.TicketPatch{Status: new(helpdesk.StatusOpen)}, baseTicket(), false},
		{"Status", &helpdesk.TicketPatch{Status: new(helpdesk.StatusResolved)},
			edited(func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusResolved }), true},
		{"PrioritySame", &helpdesk.TicketPatch{Priority: new(helpdesk.PriorityHigh)}, baseTicket(), false},
		{"Priority", &helpdesk.TicketPatch{Priority: new(helpdesk.PriorityLow)},
			edited(func(t *helpdesk.Ticket) { t.Priority = helpdesk.PriorityLow }), true},
		{"TypeSame", &helpdesk.TicketPatch{Type: new(helpdesk.TypeIncident)}, baseTicket(), false},
		{"Type", &helpdesk.TicketPatch{Type: new(helpdesk.TypeTask)},
			edited(func(t *helpdesk.Ticket) { t.Type = helpdesk.TypeTask }), true},

		{"AssigneeSet", &helpdesk.TicketPatch{AssigneeID: set("usr_2")},
			edited(func(t *helpdesk.Ticket) { t.AssigneeID = "usr_2" }), true},
		{"AssigneeSame", &helpdesk.TicketPatch{AssigneeID: set("usr_1")}, baseTicket(), false},
		{"AssigneeNull", &helpdesk.TicketPatch{AssigneeID: null()},
			edited(func(t *helpdesk.Ticket) { t.AssigneeID = "" }), true},
		{"RequesterEmailNull", &helpdesk.TicketPatch{RequesterEmail: null()},
			edited(func(t *helpdesk.Ticket) { t.RequesterEmail = "" }), true},
		{"RequesterEmailSet", &helpdesk.TicketPatch{RequesterEmail: set("joe@example.com")},
			edited(func(t *helpdesk.Ticket) { t.RequesterEmail = "joe@example.com" }), true},
		{"RequesterNameNull", &helpdesk.TicketPatch{RequesterName: null()},
			edited(func(t *helpdesk.Ticket) { t.RequesterName = "" }), true},
		{"RequesterNameSet", &helpdesk.TicketPatch{RequesterName: set("Joe")},
			edited(func(t *helpdesk.Ticket) { t.RequesterName = "Joe" }), true},
		{"NullableUnsetIgnoresValue", &helpdesk.TicketPatch{
			AssigneeID:     helpdesk.Nullable[string]{Value: "usr_9"},
			RequesterEmail: helpdesk.Nullable[string]{Null: true},
			RequesterName:  helpdesk.Nullable[string]{Value: "Joe", Null: true},
		}, baseTicket(), false},

		{"TagsReplaced", &helpdesk.TicketPatch{Tags: new([]string{"paper"})},
			edited(func(t *helpdesk.Ticket) { t.Tags = []string{"paper"} }), true},
		{"TagsTrimmedAndDeduplicated", &helpdesk.TicketPatch{Tags: new([]string{" b ", "a", "b", "c\t", " a", "c"})},
			edited(func(t *helpdesk.Ticket) { t.Tags = []string{"b", "a", "c"} }), true},
		{"TagsSame", &helpdesk.TicketPatch{Tags: new([]string{"printer", "fire"})}, baseTicket(), false},
		{"TagsSameAfterNormalizing", &helpdesk.TicketPatch{Tags: new([]string{" printer", "fire ", "printer"})}, baseTicket(), false},
		{"TagsReordered", &helpdesk.TicketPatch{Tags: new([]string{"fire", "printer"})},
			edited(func(t *helpdesk.Ticket) { t.Tags = []string{"fire", "printer"} }), true},
		{"TagsCleared", &helpdesk.TicketPatch{Tags: new([]string{})},
			edited(func(t *helpdesk.Ticket) { t.Tags = []string{} }), true},

		{"CustomFieldUpdatedInPlace", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: helpdesk.Number("3")},
		}}, edited(func(t *helpdesk.Ticket) { t.CustomFields[1].Value = helpdesk.Number("3") }), true},
		{"CustomFieldAppended", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_date", Value: "2026-03-01"},
		}}, edited(func(t *helpdesk.Ticket) {
			t.CustomFields = append(t.CustomFields, helpdesk.CustomFieldValue{ID: "cf_date", Value: "2026-03-01"})
		}), true},
		{"CustomFieldRemoved", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Remove: true},
		}}, edited(func(t *helpdesk.Ticket) { t.CustomFields = t.CustomFields[1:] }), true},
		{"CustomFieldRemoveMissing", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_drop", Remove: true},
		}}, baseTicket(), false},
		{"CustomFieldSameValue", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: helpdesk.Number("2")}, {ID: "cf_check", Value: true},
		}}, baseTicket(), false},
		{"CustomFieldsMerged", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_drop", Value: "emea"},
			{ID: "cf_check", Value: false},
			{ID: "cf_text", Remove: true},
			{ID: "cf_date", Value: "2026-03-01"},
			{ID: "cf_missing", Remove: true},
		}}, edited(func(t *helpdesk.Ticket) {
			t.CustomFields = []helpdesk.CustomFieldValue{
				{ID: "cf_num", Value: helpdesk.Number("2")},
				{ID: "cf_check", Value: false},
				{ID: "cf_drop", Value: "emea"},
				{ID: "cf_date", Value: "2026-03-01"},
			}
		}), true},

		{"Everything", &helpdesk.TicketPatch{
			Subject:        new("New"),
			Status:         new(helpdesk.StatusClosed),
			Priority:       new(helpdesk.PriorityUrgent),
			Type:           new(helpdesk.TypeQuestion),
			AssigneeID:     null(),
			RequesterEmail: set("x@y.z"),
			RequesterName:  null(),
			Tags:           new([]string{"t"}),
			CustomFields:   []helpdesk.CustomFieldChange{{ID: "cf_num", Remove: true}},
		}, &helpdesk.Ticket{
			ID:             "tkt_abcdefghijklmnopqrstuvwx",
			Subject:        "New",
			Status:         helpdesk.StatusClosed,
			Priority:       helpdesk.PriorityUrgent,
			Type:           helpdesk.TypeQuestion,
			RequesterEmail: "x@y.z",
			Tags:           []string{"t"},
			CustomFields: []helpdesk.CustomFieldValue{
				{ID: "cf_text", Value: "smoke"},
				{ID: "cf_check", Value: true},
			},
			CreatedAt: created,
			UpdatedAt: updated,
			Version:   7,
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := baseTicket()
			changed := tc.patch.Apply(got)
			assertTicket(t, got, tc.want)
			if changed != tc.wantChanged {
				t.Errorf("Apply reported changed = %v, want %v", changed, tc.wantChanged)
			}
		})
	}
}

// TestTicketPatchApplyNullOnEmpty checks that clearing fields that are
// already empty is no change.
func TestTicketPatchApplyNullOnEmpty(t *testing.T) {
	empty := func(t *helpdesk.Ticket) { t.AssigneeID, t.RequesterEmail, t.RequesterName = "", "", "" }
	got := edited(empty)
	p := &helpdesk.TicketPatch{AssigneeID: null(), RequesterEmail: null(), RequesterName: null()}
	if p.Apply(got) {
		t.Error("Apply reported a change")
	}
	assertTicket(t, got, edited(empty))
}

// TestTicketPatchApplyDoesNotAlias checks that the ticket owns its tags and
// custom fields after Apply: changing the patch afterwards leaves it alone.
func TestTicketPatchApplyDoesNotAlias(t *testing.T) {
	tags := []string{"a", "b"}
	p := &helpdesk.TicketPatch{
		Tags:         &tags,
		CustomFields: []helpdesk.CustomFieldChange{{ID: "cf_date", Value: "2026-03-01"}},
	}
	got := baseTicket()
	p.Apply(got)
	tags[0] = "changed"
	p.CustomFields[0].Value = "changed"
	want := edited(func(t *helpdesk.Ticket) {
		t.Tags = []string{"a", "b"}
		t.CustomFields = append(t.CustomFields, helpdesk.CustomFieldValue{ID: "cf_date", Value: "2026-03-01"})
	})
	assertTicket(t, got, want)
}

// TestTicketPatchApplyToNewTicket applies a create body to the defaults,
// the way a create does.
func TestTicketPatchApplyToNewTicket(t *testing.T) {
	got := helpdesk.NewTicket("tkt_new", created)
	changed := (&helpdesk.TicketPatch{Subject: new(" Hello "), Tags: new([]string{"x", "x"})}).Apply(got)
	want := &helpdesk.Ticket{
		ID:           "tkt_new",
		Subject:      "Hello",
		Status:       helpdesk.StatusNew,
		Priority:     helpdesk.PriorityNormal,
		Type:         helpdesk.TypeQuestion,
		Tags:         []string{"x"},
		CustomFields: []helpdesk.CustomFieldValue{},
		CreatedAt:    created,
		UpdatedAt:    created,
		Version:      1,
	}
	assertTicket(t, got, want)
	if !changed {
		t.Error("Apply reported no change")
	}
}

func TestTicketSameContent(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *helpdesk.Ticket)
		want bool
	}{
		{"Identical", func(*helpdesk.Ticket) {}, true},
		{"TimestampsAndVersionIgnored", func(t *helpdesk.Ticket) {
			t.CreatedAt, t.UpdatedAt, t.Version = time.Time{}, time.Time{}, 99
		}, true},
		{"NilAndEmptyTagsEqual", func(t *helpdesk.Ticket) { t.Tags = nil }, true},
		{"ID", func(t *helpdesk.Ticket) { t.ID = "tkt_other" }, false},
		{"Subject", func(t *helpdesk.Ticket) { t.Subject = "x" }, false},
		{"Status", func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusNew }, false},
		{"Priority", func(t *helpdesk.Ticket) { t.Priority = helpdesk.PriorityLow }, false},
		{"Type", func(t *helpdesk.Ticket) { t.Type = helpdesk.TypeTask }, false},
		{"AssigneeID", func(t *helpdesk.Ticket) { t.AssigneeID = "usr_x" }, false},
		{"RequesterEmail", func(t *helpdesk.Ticket) { t.RequesterEmail = "x@y.z" }, false},
		{"RequesterName", func(t *helpdesk.Ticket) { t.RequesterName = "x" }, false},
		{"Tags", func(t *helpdesk.Ticket) { t.Tags = []string{"x"} }, false},
		{"CustomFieldValue", func(t *helpdesk.Ticket) { t.CustomFields[0].Value = "x" }, false},
		{"CustomFieldValueType", func(t *helpdesk.Ticket) { t.CustomFields[1].Value = "2" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := baseTicket()
			a.Tags = []string{}
			b := baseTicket()
			b.Tags = []string{}
			tc.edit(b)
			if got := a.SameContent(b); got != tc.want {
				t.Errorf("SameContent = %v, want %v", got, tc.want)
			}
		})
	}
}

// assertTicket fails unless got equals want in every field.
func assertTicket(tb testing.TB, got, want *helpdesk.Ticket) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("ticket = %+v\nwant     %+v", got, want)
	}
}
