package httpapi

import (
	"net/url"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// FuzzDecodeTicket feeds arbitrary bodies to the ticket decoder and
// validator. Whatever it accepts must produce a ticket within the limits.
func FuzzDecodeTicket(f *testing.F) {
	for _, seed := range []string{
		`{"ticket": {"subject": "Cannot log in", "status": "open", "tags": ["a", " a "]}}`,
		`{"ticket": {"subject": "x", "assigneeId": null, "requesterEmail": "a@b.co", "customFields": [{"id": "cf_a", "value": null}]}}`,
		`{"ticket": {"subject": 1, "tags": [1, "", null]}, "x": []}`,
		`{"ticket": {"subject": "\u00e9\ud800", "customFields": [{"id": "cf_a", "value": {"deep": [[[]]]}}]}}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"ticket": "nope"}`, ``, `{`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "ticket", &problems)
		if err != nil {
			if c := helpdesk.ErrorCode(err); c != helpdesk.CodeBadRequest && c != helpdesk.CodeValidation {
				t.Fatalf("decoder error with code %s: %v", c, err)
			}
			return
		}
		p := decodeTicketPatch(fields, &problems)
		p.Validate("ticket.", nil, &problems)
		if problems.Err() != nil {
			return
		}
		tk := helpdesk.NewTicket("tkt_fuzz", time.Now())
		p.Apply(tk)
		if n := utf8.RuneCountInString(tk.Subject); n > helpdesk.MaxSubjectLen || (p.Subject != nil && n == 0) {
			t.Fatalf("accepted subject of %d characters", n)
		}
		if len(tk.Tags) > helpdesk.MaxTags || slices.Contains(tk.Tags, "") || !tk.Status.Valid() || !tk.Priority.Valid() || !tk.Type.Valid() {
			t.Fatalf("accepted ticket outside the limits: %+v", tk)
		}
		if tk.AssigneeID != "" && !helpdesk.ValidAssigneeID(tk.AssigneeID) {
			t.Fatalf("accepted assignee %q", tk.AssigneeID)
		}
		if len(p.CustomFields) > 0 && !slices.ContainsFunc(p.CustomFields, func(c helpdesk.CustomFieldChange) bool { return c.Remove }) {
			t.Fatal("custom field values were accepted with no definitions")
		}
	})
}

// FuzzParseListQuery feeds arbitrary query strings to the list parser.
// Whatever it accepts must be a query the store can serve.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "status=open&priority=high&assignee_id=usr_a&page_size=100&sort_by=priority&sort_order=asc",
		"page_size=0", "page_size=-1", "page_size=1e2", "page_size=%2B5", "status=open&status=new",
		"after=abc", "after=", "sort_by=status;drop", "assignee_id=usr_%00", "x=%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseListQuery(values)
		if err != nil {
			if c := helpdesk.ErrorCode(err); c != helpdesk.CodeBadRequest && c != helpdesk.CodeValidation {
				t.Fatalf("parser error with code %s: %v", c, err)
			}
			return
		}
		if q.PageSize < 1 || q.PageSize > helpdesk.MaxPageSize || !slices.Contains(helpdesk.SortFields, q.SortBy) ||
			(q.Order != helpdesk.Asc && q.Order != helpdesk.Desc) ||
			(q.Filter.Status != "" && !q.Filter.Status.Valid()) || (q.Filter.Priority != "" && !q.Filter.Priority.Valid()) ||
			(q.Filter.AssigneeID != "" && !helpdesk.ValidAssigneeID(q.Filter.AssigneeID)) {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
	})
}
