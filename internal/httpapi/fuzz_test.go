package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
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

// FuzzParseListQuery feeds arbitrary query strings to the list endpoint's
// parsing, as the handler runs it. Whatever it accepts must be a query the
// store can serve and must say exactly what the query string says: every
// pair in it is a known parameter whose value the query carries, so that
// nothing is dropped and nothing lists more than was asked for.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "status=open&priority=high&assignee_id=usr_a&page_size=100&sort_by=priority&sort_order=asc",
		"page_size=0", "page_size=-1", "page_size=1e2", "page_size=%2B5", "status=open&status=new",
		"after=abc", "after=", "sort_by=status;drop", "assignee_id=usr_%00", "x=%zz",
		"status=open&&page_size=5", "assignee_id=usr_a%2Bb", "sort_order=asc&after=a+b%3D",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := queryValues(raw)
		if err != nil {
			if c := helpdesk.ErrorCode(err); c != helpdesk.CodeBadRequest {
				t.Fatalf("query string error with code %s: %v", c, err)
			}
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
		want := map[string]string{
			"status": string(q.Filter.Status), "priority": string(q.Filter.Priority), "assignee_id": q.Filter.AssigneeID,
			"page_size": fmt.Sprint(q.PageSize), "sort_by": string(q.SortBy), "sort_order": string(q.Order), "after": q.After,
		}
		seen := map[string]bool{}
		for pair := range strings.SplitSeq(raw, "&") {
			if pair == "" {
				continue
			}
			rawKey, rawValue, _ := strings.Cut(pair, "=")
			k, kerr := url.QueryUnescape(rawKey)
			v, verr := url.QueryUnescape(rawValue)
			switch {
			case kerr != nil || verr != nil || strings.Contains(pair, ";"):
				t.Fatalf("accepted %q with the malformed pair %q", raw, pair)
			case !slices.Contains(listParams, k):
				t.Fatalf("accepted %q with the unknown parameter %q", raw, k)
			case seen[k]:
				t.Fatalf("accepted %q with %q given twice", raw, k)
			case want[k] != v:
				t.Fatalf("accepted %q: %q is %q in the query %+v", raw, k, v, q)
			}
			seen[k] = true
		}
		defaults := helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.DefaultPageSize}
		for k, v := range map[string]bool{
			"status": q.Filter.Status == "", "priority": q.Filter.Priority == "", "assignee_id": q.Filter.AssigneeID == "",
			"page_size": q.PageSize == defaults.PageSize, "sort_by": q.SortBy == defaults.SortBy,
			"sort_order": q.Order == defaults.Order, "after": q.After == "",
		} {
			if !seen[k] && !v {
				t.Fatalf("accepted %q: %q is absent but the query %+v sets it", raw, k, q)
			}
		}
	})
}
