package helpdesk_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// testDefs returns one custom field definition of every type, keyed by id.
func testDefs() map[string]*helpdesk.CustomField {
	return map[string]*helpdesk.CustomField{
		"cf_text":  {ID: "cf_text", Name: "Notes", Type: helpdesk.FieldText},
		"cf_num":   {ID: "cf_num", Name: "Seats", Type: helpdesk.FieldNumber},
		"cf_check": {ID: "cf_check", Name: "VIP", Type: helpdesk.FieldCheckbox},
		"cf_date":  {ID: "cf_date", Name: "Due", Type: helpdesk.FieldDate},
		"cf_drop":  {ID: "cf_drop", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}},
	}
}

// validate runs p.Validate with prefix "ticket." and testDefs and returns
// what it found.
func validate(tb testing.TB, p *helpdesk.TicketPatch) helpdesk.Problems {
	tb.Helper()
	var problems helpdesk.Problems
	p.Validate("ticket.", testDefs(), &problems)
	return problems
}

// email returns a syntactically valid address of exactly n bytes (n ≥ 7):
// "a@", dot-separated labels of at most 63 bytes, ".com".
func email(tb testing.TB, n int) string {
	tb.Helper()
	var labels []string
	for need := n - len("a@") - len(".com"); need > 0; {
		l := min(need, 63)
		if need-l == 1 {
			l-- // leave room for a dot and a one-byte label
		}
		labels = append(labels, repeat("b", l))
		need -= l
		if need > 0 {
			need-- // the dot before the next label
		}
	}
	addr := "a@" + strings.Join(labels, ".") + ".com"
	if len(addr) != n {
		tb.Fatalf("email(%d) built an address of %d bytes", n, len(addr))
	}
	return addr
}

// tagList returns n distinct valid tags.
func tagList(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%d", i)
	}
	return tags
}

// removals returns n changes that each remove a distinct custom field.
func removals(n int) []helpdesk.CustomFieldChange {
	changes := make([]helpdesk.CustomFieldChange, n)
	for i := range changes {
		changes[i] = helpdesk.CustomFieldChange{ID: fmt.Sprintf("cf_gone%d", i), Remove: true}
	}
	return changes
}

// value returns a patch setting one custom field.
func value(id string, v any) *helpdesk.TicketPatch {
	return &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{{ID: id, Value: v}}}
}

func TestTicketPatchValidate(t *testing.T) {
	cases := []struct {
		name  string
		patch *helpdesk.TicketPatch
		want  []string // field paths, in order; none means valid
	}{
		{"Empty", &helpdesk.TicketPatch{}, nil},

		// subject: 1..500 runes after trimming, not blank.
		{"Subject1", &helpdesk.TicketPatch{Subject: new("a")}, nil},
		{"Subject500", &helpdesk.TicketPatch{Subject: new(repeat("a", 500))}, nil},
		{"Subject501", &helpdesk.TicketPatch{Subject: new(repeat("a", 501))}, []string{"ticket.subject"}},
		{"Subject500MultiByte", &helpdesk.TicketPatch{Subject: new(repeat("é", 500))}, nil},
		{"Subject501MultiByte", &helpdesk.TicketPatch{Subject: new(repeat("é", 501))}, []string{"ticket.subject"}},
		{"Subject500FourByte", &helpdesk.TicketPatch{Subject: new(repeat("😀", 500))}, nil},
		{"Subject500Padded", &helpdesk.TicketPatch{Subject: new("  \t" + repeat("a", 500) + "\n ")}, nil},
		{"Subject501Padded", &helpdesk.TicketPatch{Subject: new(" " + repeat("a", 501) + " ")}, []string{"ticket.subject"}},
		{"SubjectEmpty", &helpdesk.TicketPatch{Subject: new("")}, []string{"ticket.subject"}},
		{"SubjectBlank", &helpdesk.TicketPatch{Subject: new(" \t\n ")}, []string{"ticket.subject"}},

		// enums
		{"StatusValid", &helpdesk.TicketPatch{Status: new(helpdesk.StatusPending)}, nil},
		{"StatusUnknown", &helpdesk.TicketPatch{Status: new(helpdesk.Status("reopened"))}, []string{"ticket.status"}},
		{"StatusWrongCase", &helpdesk.TicketPatch{Status: new(helpdesk.Status("Open"))}, []string{"ticket.status"}},
		{"StatusEmpty", &helpdesk.TicketPatch{Status: new(helpdesk.Status(""))}, []string{"ticket.status"}},
		{"PriorityValid", &helpdesk.TicketPatch{Priority: new(helpdesk.PriorityUrgent)}, nil},
		{"PriorityUnknown", &helpdesk.TicketPatch{Priority: new(helpdesk.Priority("critical"))}, []string{"ticket.priority"}},
		{"TypeValid", &helpdesk.TicketPatch{Type: new(helpdesk.TypeIncident)}, nil},
		{"TypeUnknown", &helpdesk.TicketPatch{Type: new(helpdesk.Type("bug"))}, []string{"ticket.type"}},

		// requesterName: at most 255 runes; null clears.
		{"RequesterName255", &helpdesk.TicketPatch{RequesterName: set(repeat("n", 255))}, nil},
		{"RequesterName256", &helpdesk.TicketPatch{RequesterName: set(repeat("n", 256))}, []string{"ticket.requesterName"}},
		{"RequesterName255MultiByte", &helpdesk.TicketPatch{RequesterName: set(repeat("é", 255))}, nil},
		{"RequesterName256MultiByte", &helpdesk.TicketPatch{RequesterName: set(repeat("é", 256))}, []string{"ticket.requesterName"}},
		{"RequesterNameNull", &helpdesk.TicketPatch{RequesterName: null()}, nil},

		// requesterEmail: at most 254 bytes, a bare address; null clears.
		{"RequesterEmailPlain", &helpdesk.TicketPatch{RequesterEmail: set("jane@example.com")}, nil},
		{"RequesterEmail254", &helpdesk.TicketPatch{RequesterEmail: set(email(t, 254))}, nil},
		{"RequesterEmail255", &helpdesk.TicketPatch{RequesterEmail: set(email(t, 255))}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailDisplayName", &helpdesk.TicketPatch{RequesterEmail: set("Jane <j@x.com>")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailAngleBrackets", &helpdesk.TicketPatch{RequesterEmail: set("<j@x.com>")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailComment", &helpdesk.TicketPatch{RequesterEmail: set("j@x.com (Jane)")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailLeadingSpace", &helpdesk.TicketPatch{RequesterEmail: set(" j@x.com")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailNoAt", &helpdesk.TicketPatch{RequesterEmail: set("jane.example.com")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailEmpty", &helpdesk.TicketPatch{RequesterEmail: set("")}, []string{"ticket.requesterEmail"}},
		{"RequesterEmailNull", &helpdesk.TicketPatch{RequesterEmail: null()}, nil},

		// assigneeId: ^usr_[A-Za-z0-9._-]+$, at most 128 bytes; null clears.
		{"AssigneeIDShort", &helpdesk.TicketPatch{AssigneeID: set("usr_a")}, nil},
		{"AssigneeIDAllClasses", &helpdesk.TicketPatch{AssigneeID: set("usr_Az09._-")}, nil},
		{"AssigneeID128", &helpdesk.TicketPatch{AssigneeID: set("usr_" + repeat("x", 124))}, nil},
		{"AssigneeID129", &helpdesk.TicketPatch{AssigneeID: set("usr_" + repeat("x", 125))}, []string{"ticket.assigneeId"}},
		{"AssigneeIDPrefixOnly", &helpdesk.TicketPatch{AssigneeID: set("usr_")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDWrongPrefix", &helpdesk.TicketPatch{AssigneeID: set("agt_abc")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDUpperPrefix", &helpdesk.TicketPatch{AssigneeID: set("USR_abc")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDSpace", &helpdesk.TicketPatch{AssigneeID: set("usr_a b")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDSlash", &helpdesk.TicketPatch{AssigneeID: set("usr_a/b")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDNonASCII", &helpdesk.TicketPatch{AssigneeID: set("usr_é")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDTrailingNewline", &helpdesk.TicketPatch{AssigneeID: set("usr_abc\n")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDLeadingText", &helpdesk.TicketPatch{AssigneeID: set("x usr_abc")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDEmpty", &helpdesk.TicketPatch{AssigneeID: set("")}, []string{"ticket.assigneeId"}},
		{"AssigneeIDNull", &helpdesk.TicketPatch{AssigneeID: null()}, nil},

		// tags: at most 50, each 1..100 runes after trimming.
		{"TagsEmpty", &helpdesk.TicketPatch{Tags: new([]string{})}, nil},
		{"Tags50", &helpdesk.TicketPatch{Tags: new(tagList(50))}, nil},
		{"Tags51", &helpdesk.TicketPatch{Tags: new(tagList(51))}, []string{"ticket.tags"}},
		{"Tags51OneBadRefusedWhole", &helpdesk.TicketPatch{Tags: new(append(tagList(50), " "))}, []string{"ticket.tags"}},
		{"Tag1", &helpdesk.TicketPatch{Tags: new([]string{"x"})}, nil},
		{"Tag100", &helpdesk.TicketPatch{Tags: new([]string{repeat("t", 100)})}, nil},
		{"Tag101", &helpdesk.TicketPatch{Tags: new([]string{"ok", "fine", "good", repeat("t", 101)})}, []string{"ticket.tags[3]"}},
		{"Tag100MultiByte", &helpdesk.TicketPatch{Tags: new([]string{repeat("é", 100)})}, nil},
		{"Tag101MultiByte", &helpdesk.TicketPatch{Tags: new([]string{repeat("é", 101)})}, []string{"ticket.tags[0]"}},
		{"Tag100Padded", &helpdesk.TicketPatch{Tags: new([]string{" " + repeat("t", 100) + " "})}, nil},
		{"TagEmpty", &helpdesk.TicketPatch{Tags: new([]string{"a", ""})}, []string{"ticket.tags[1]"}},
		{"TagBlank", &helpdesk.TicketPatch{Tags: new([]string{" \t "})}, []string{"ticket.tags[0]"}},
		{"TagsSeveralBad", &helpdesk.TicketPatch{Tags: new([]string{"", "ok", repeat("t", 101), " "})},
			[]string{"ticket.tags[0]", "ticket.tags[2]", "ticket.tags[3]"}},
		{"TagsDuplicatesAllowed", &helpdesk.TicketPatch{Tags: new([]string{"a", "a", " a "})}, nil},

		// customFields: at most 100 entries, unique ids, known definitions.
		{"CustomFields100", &helpdesk.TicketPatch{CustomFields: removals(100)}, nil},
		{"CustomFields101", &helpdesk.TicketPatch{CustomFields: removals(101)}, []string{"ticket.customFields"}},
		{"CustomFieldDuplicateID", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "a"}, {ID: "cf_num", Value: helpdesk.Number("1")}, {ID: "cf_text", Value: "b"},
		}}, []string{"ticket.customFields[2].id"}},
		{"CustomFieldDuplicateIDOfRemoval", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Remove: true}, {ID: "cf_text", Value: "b"},
		}}, []string{"ticket.customFields[1].id"}},
		{"CustomFieldDuplicateIDReportedOnce", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: helpdesk.Number("1")}, {ID: "cf_num", Value: "not a number"},
		}}, []string{"ticket.customFields[1].id"}},
		{"CustomFieldUnknownID", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_text", Value: "a"}, {ID: "cf_nope", Value: "a"},
		}}, []string{"ticket.customFields[1].id"}},
		{"CustomFieldEmptyID", value("", "a"), []string{"ticket.customFields[0].id"}},
		{"CustomFieldRemoveUnknownID", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_deleted", Remove: true},
		}}, nil},
		{"CustomFieldRemoveIgnoresValue", &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
			{ID: "cf_num", Value: "not a number", Remove: true},
		}}, nil},

		// text: a string of at most 1000 runes.
		{"TextEmpty", value("cf_text", ""), nil},
		{"Text1000", value("cf_text", repeat("x", 1000)), nil},
		{"Text1001", value("cf_text", repeat("x", 1001)), []string{"ticket.customFields[0].value"}},
		{"Text1000MultiByte", value("cf_text", repeat("é", 1000)), nil},
		{"Text1001MultiByte", value("cf_text", repeat("é", 1001)), []string{"ticket.customFields[0].value"}},
		{"TextNumber", value("cf_text", helpdesk.Number("1")), []string{"ticket.customFields[0].value"}},
		{"TextBool", value("cf_text", true), []string{"ticket.customFields[0].value"}},
		{"TextNil", value("cf_text", nil), []string{"ticket.customFields[0].value"}},

		// number: a Number (exact; a float64 is not one).
		{"NumberFloat", value("cf_num", helpdesk.Number("3.5")), nil},
		{"NumberZero", value("cf_num", helpdesk.Number("0")), nil},
		{"NumberNegative", value("cf_num", helpdesk.Number("-2")), nil},
		{"NumberHuge", value("cf_num", helpdesk.Number("12345678901234567890123")), nil},
		{"NumberFloat64", value("cf_num", 3.5), []string{"ticket.customFields[0].value"}},
		{"NumberInt", value("cf_num", 3), []string{"ticket.customFields[0].value"}},
		{"NumberFloat32", value("cf_num", float32(3)), []string{"ticket.customFields[0].value"}},
		{"NumberString", value("cf_num", "3"), []string{"ticket.customFields[0].value"}},
		{"NumberNil", value("cf_num", nil), []string{"ticket.customFields[0].value"}},

		// checkbox: a bool.
		{"CheckboxTrue", value("cf_check", true), nil},
		{"CheckboxFalse", value("cf_check", false), nil},
		{"CheckboxString", value("cf_check", "true"), []string{"ticket.customFields[0].value"}},
		{"CheckboxNumber", value("cf_check", helpdesk.Number("1")), []string{"ticket.customFields[0].value"}},

		// date: YYYY-MM-DD naming a real day.
		{"Date", value("cf_date", "2026-02-28"), nil},
		{"DateLeapDay", value("cf_date", "2024-02-29"), nil},
		{"DateFeb30", value("cf_date", "2026-02-30"), []string{"ticket.customFields[0].value"}},
		{"DateFeb29NonLeap", value("cf_date", "2025-02-29"), []string{"ticket.customFields[0].value"}},
		{"DateApr31", value("cf_date", "2026-04-31"), []string{"ticket.customFields[0].value"}},
		{"DateMonth13", value("cf_date", "2026-13-01"), []string{"ticket.customFields[0].value"}},
		{"DateUnpadded", value("cf_date", "2026-1-05"), []string{"ticket.customFields[0].value"}},
		{"DateWithTime", value("cf_date", "2026-01-05T00:00:00Z"), []string{"ticket.customFields[0].value"}},
		{"DateOtherOrder", value("cf_date", "05/01/2026"), []string{"ticket.customFields[0].value"}},
		{"DateEmpty", value("cf_date", ""), []string{"ticket.customFields[0].value"}},
		{"DateNumber", value("cf_date", helpdesk.Number("20260105")), []string{"ticket.customFields[0].value"}},

		// dropdown: one of the definition's options.
		{"DropdownOption", value("cf_drop", "apac"), nil},
		{"DropdownNotOption", value("cf_drop", "amer"), []string{"ticket.customFields[0].value"}},
		{"DropdownWrongCase", value("cf_drop", "EMEA"), []string{"ticket.customFields[0].value"}},
		{"DropdownEmpty", value("cf_drop", ""), []string{"ticket.customFields[0].value"}},
		{"DropdownNumber", value("cf_drop", helpdesk.Number("1")), []string{"ticket.customFields[0].value"}},

		// Every bad field is reported, once each, in field order.
		{"SeveralBadFields", &helpdesk.TicketPatch{
			Subject:        new(" "),
			Status:         new(helpdesk.Status("x")),
			Priority:       new(helpdesk.Priority("x")),
			Type:           new(helpdesk.Type("x")),
			AssigneeID:     set("x"),
			RequesterEmail: set("x"),
			RequesterName:  set(repeat("n", 256)),
			Tags:           new([]string{"ok", ""}),
			CustomFields: []helpdesk.CustomFieldChange{
				{ID: "cf_text", Value: "fine"},
				{ID: "cf_num", Value: "x"},
				{ID: "cf_unknown", Value: "x"},
				{ID: "cf_num", Value: helpdesk.Number("1")},
				{ID: "cf_gone", Remove: true},
				{ID: "cf_date", Value: "2026-02-30"},
			},
		}, []string{
			"ticket.subject", "ticket.status", "ticket.priority", "ticket.type",
			"ticket.assigneeId", "ticket.requesterEmail", "ticket.requesterName",
			"ticket.tags[1]",
			"ticket.customFields[1].value", "ticket.customFields[2].id",
			"ticket.customFields[3].id", "ticket.customFields[5].value",
		}},
		{"AllValid", &helpdesk.TicketPatch{
			Subject:        new("Printer on fire"),
			Status:         new(helpdesk.StatusOpen),
			Priority:       new(helpdesk.PriorityHigh),
			Type:           new(helpdesk.TypeProblem),
			AssigneeID:     set("usr_42"),
			RequesterEmail: set("jane@example.com"),
			RequesterName:  set("Jane Doe"),
			Tags:           new([]string{"printer", "fire"}),
			CustomFields: []helpdesk.CustomFieldChange{
				{ID: "cf_text", Value: "smoke"},
				{ID: "cf_num", Value: helpdesk.Number("2")},
				{ID: "cf_check", Value: true},
				{ID: "cf_date", Value: "2026-03-01"},
				{ID: "cf_drop", Value: "emea"},
			},
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertFields(t, validate(t, tc.patch), tc.want...)
		})
	}
}

// TestTicketPatchValidatePrefix checks that Validate uses the prefix it is
// given and adds to the problems already found rather than replacing them.
func TestTicketPatchValidatePrefix(t *testing.T) {
	problems := helpdesk.Problems{{Field: "earlier", Message: "was bad"}}
	p := &helpdesk.TicketPatch{
		Subject:      new(""),
		Tags:         new([]string{""}),
		CustomFields: []helpdesk.CustomFieldChange{{ID: "cf_num", Value: "x"}},
	}
	p.Validate("patch.", testDefs(), &problems)
	assertFields(t, problems, "earlier", "patch.subject", "patch.tags[0]", "patch.customFields[0].value")
}

// TestTicketPatchValidateNilDefs checks that with no definitions every set
// value names an unknown field while removals stay valid.
func TestTicketPatchValidateNilDefs(t *testing.T) {
	var problems helpdesk.Problems
	p := &helpdesk.TicketPatch{CustomFields: []helpdesk.CustomFieldChange{
		{ID: "cf_text", Value: "a"}, {ID: "cf_num", Remove: true},
	}}
	p.Validate("ticket.", nil, &problems)
	assertFields(t, problems, "ticket.customFields[0].id")
}

// TestTicketPatchValidateCallerProblems checks that an entry the caller
// already found bad (e.g. a tag that was not a string, decoded as "") is not
// reported a second time, while other entries still are.
func TestTicketPatchValidateCallerProblems(t *testing.T) {
	cases := []struct {
		name   string
		caller helpdesk.Problems
		patch  *helpdesk.TicketPatch
		want   []string
	}{
		{"TagAlreadyBad", helpdesk.Problems{{Field: "ticket.tags[1]", Message: "must be a string"}},
			&helpdesk.TicketPatch{Tags: new([]string{"a", ""})}, []string{"ticket.tags[1]"}},
		{"OtherTagStillChecked", helpdesk.Problems{{Field: "ticket.tags[1]", Message: "must be a string"}},
			&helpdesk.TicketPatch{Tags: new([]string{"", "", "ok", " "})},
			[]string{"ticket.tags[1]", "ticket.tags[0]", "ticket.tags[3]"}},
		{"UnrelatedField", helpdesk.Problems{{Field: "ticket.color", Message: "is not a known field"}},
			&helpdesk.TicketPatch{Tags: new([]string{""})}, []string{"ticket.color", "ticket.tags[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := tc.caller
			tc.patch.Validate("ticket.", testDefs(), &problems)
			assertFields(t, problems, tc.want...)
		})
	}
}
