package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestListOverHTTP follows links.next exactly as given for filtered and
// sorted lists, and checks the envelope.
func TestListOverHTTP(t *testing.T) {
	e, _ := newAPI(t)
	statuses := []string{"new", "open", "pending", "resolved", "closed"}
	for i := range 11 {
		fields := map[string]any{"subject": fmt.Sprint("t", i), "status": statuses[i%5], "priority": []string{"low", "high"}[i%2]}
		if i%3 == 0 {
			fields["assigneeId"] = "usr_a"
		}
		e.createTicket(fields)
	}
	cases := map[string]struct {
		query string
		want  int
	}{
		"Default":           {"", 11},
		"PageOfThree":       {"page_size=3", 11},
		"Status":            {"status=open&page_size=1", 2},
		"PriorityByStatus":  {"priority=high&sort_by=status&sort_order=asc&page_size=2", 5},
		"AssigneeByUpdated": {"assignee_id=usr_a&sort_by=updated_at&page_size=2", 4},
		"Combined":          {"status=new&priority=low&assignee_id=usr_a&page_size=1", 1},
		"ExactlyFull":       {"page_size=11", 11},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			next := base + "/tickets?" + tc.query
			var got []string
			for pages := 0; next != ""; pages++ {
				res := e.do("GET", next, helpdesk.PermRead, nil)
				res.want(t, http.StatusOK, "")
				tickets := res.body["tickets"].([]any)
				meta := res.body["meta"].(map[string]any)
				links := res.body["links"].(map[string]any)
				for _, tk := range tickets {
					got = append(got, tk.(map[string]any)["id"].(string))
				}
				link, hasLink := links["next"].(string)
				if meta["hasMore"] != hasLink || (hasLink && len(tickets) == 0) {
					t.Fatalf("page %d: hasMore %v, next %v, %d tickets", pages, meta["hasMore"], links["next"], len(tickets))
				}
				if hasLink {
					u, err := url.Parse(link)
					if err != nil || u.Path != base+"/tickets" {
						t.Fatalf("next link %q", link)
					}
					orig, _ := url.ParseQuery(tc.query)
					for k, v := range orig {
						if u.Query().Get(k) != v[0] {
							t.Fatalf("next link %q lost %s=%s", link, k, v[0])
						}
					}
					if strings.Contains(link, "tkt_") {
						t.Fatalf("the cursor shows an id: %s", link)
					}
				}
				next = link
			}
			if len(got) != tc.want {
				t.Fatalf("walked %d tickets, want %d", len(got), tc.want)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	e, _ := newAPI(t)
	for range 3 {
		e.createTicket(map[string]any{"subject": "x"})
	}
	first := e.do("GET", base+"/tickets?page_size=1&status=new", helpdesk.PermRead, nil)
	next := first.body["links"].(map[string]any)["next"].(string)
	cursor, _ := url.ParseQuery(strings.SplitN(next, "?", 2)[1])
	after := url.QueryEscape(cursor.Get("after"))
	cases := []struct {
		name, query string
		status      int
		code        helpdesk.Code
		fields      []string
	}{
		{"PageSizeZero", "page_size=0", 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"PageSizeTooBig", "page_size=101", 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"PageSizeNotNumber", "page_size=ten", 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"PageSizePadded", "page_size=010", 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"PageSizeEmpty", "page_size=", 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"BadSortBy", "sort_by=subject", 422, helpdesk.CodeValidation, []string{"sort_by"}},
		{"BadSortOrder", "sort_order=up", 422, helpdesk.CodeValidation, []string{"sort_order"}},
		{"BadStatus", "status=Open", 422, helpdesk.CodeValidation, []string{"status"}},
		{"BadPriority", "priority=", 422, helpdesk.CodeValidation, []string{"priority"}},
		{"BadAssignee", "assignee_id=bob", 422, helpdesk.CodeValidation, []string{"assignee_id"}},
		{"Repeated", "status=new&status=open", 422, helpdesk.CodeValidation, []string{"status"}},
		{"Unknown", "limit=5&offset=10", 422, helpdesk.CodeValidation, []string{"limit", "offset"}},
		{"BadEscape", "status=open&assignee_id=usr_%zz", 400, helpdesk.CodeBadRequest, nil},
		{"Semicolon", "priority=high;status=open", 400, helpdesk.CodeBadRequest, nil},
		{"EmptyCursor", "after=", 400, helpdesk.CodeBadRequest, nil},
		{"GarbageCursor", "after=abc", 400, helpdesk.CodeBadRequest, nil},
		{"CursorOtherFilter", "status=open&page_size=1&after=" + after, 400, helpdesk.CodeBadRequest, nil},
		{"CursorOtherSort", "status=new&sort_by=updated_at&after=" + after, 400, helpdesk.CodeBadRequest, nil},
		{"CursorOtherOrder", "status=new&sort_order=asc&after=" + after, 400, helpdesk.CodeBadRequest, nil},
		{"CursorTampered", "status=new&after=" + strings.Replace(after, after[5:6], map[bool]string{true: "B", false: "A"}[after[5:6] == "A"], 1), 400, helpdesk.CodeBadRequest, nil},
		{"CursorOtherPageSizeIsFine", "status=new&page_size=5&after=" + after, 200, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.do("GET", base+"/tickets?"+tc.query, helpdesk.PermRead, nil).want(t, tc.status, tc.code, tc.fields...)
		})
	}
}
