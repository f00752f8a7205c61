package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

const base = "/helpdesk/api/v1"

var timePattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestTicketLifecycle(t *testing.T) {
	e, _ := newAPI(t)
	created := e.createTicket(map[string]any{"subject": "  Cannot log in  "})
	id := created["id"].(string)
	t.Run("CreateDefaults", func(t *testing.T) {
		want := map[string]any{"subject": "Cannot log in", "status": "new", "priority": "normal", "type": "question", "assigneeId": nil, "requesterEmail": nil, "requesterName": nil}
		for k, v := range want {
			if created[k] != v {
				t.Errorf("%s = %v, want %v", k, created[k], v)
			}
		}
		if fmt.Sprint(created["tags"]) != "[]" || fmt.Sprint(created["customFields"]) != "[]" {
			t.Errorf("tags %v customFields %v, want empty arrays", created["tags"], created["customFields"])
		}
		if !helpdesk.ValidTicketID(id) || !timePattern.MatchString(created["createdAt"].(string)) || created["createdAt"] != created["updatedAt"] {
			t.Errorf("id %v createdAt %v updatedAt %v", id, created["createdAt"], created["updatedAt"])
		}
	})
	t.Run("Get", func(t *testing.T) {
		res := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil)
		res.want(t, http.StatusOK, "")
		if fmt.Sprint(res.ticket(t)) != fmt.Sprint(created) {
			t.Fatalf("get %v, want %v", res.ticket(t), created)
		}
	})
	var updated map[string]any
	t.Run("PartialUpdate", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // so that updatedAt can differ at millisecond precision
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, map[string]any{"ticket": map[string]any{
			"status": "pending", "assigneeId": "usr_xyz789", "requesterName": "Jane", "tags": []string{"escalated", " escalated", "vip"},
		}})
		res.want(t, http.StatusOK, "")
		updated = res.ticket(t)
		if updated["status"] != "pending" || updated["priority"] != "normal" || updated["assigneeId"] != "usr_xyz789" ||
			fmt.Sprint(updated["tags"]) != "[escalated vip]" || updated["subject"] != "Cannot log in" {
			t.Fatalf("updated %v", updated)
		}
		if updated["updatedAt"] == created["updatedAt"] || updated["createdAt"] != created["createdAt"] {
			t.Fatalf("timestamps after update: %v", updated)
		}
	})
	t.Run("NoOpUpdateKeepsUpdatedAt", func(t *testing.T) {
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, map[string]any{"ticket": map[string]any{"status": "pending", "tags": []string{"escalated", "vip"}}})
		res.want(t, http.StatusOK, "")
		if res.ticket(t)["updatedAt"] != updated["updatedAt"] {
			t.Fatalf("a no-op PUT moved updatedAt: %v -> %v", updated["updatedAt"], res.ticket(t)["updatedAt"])
		}
	})
	t.Run("NullClears", func(t *testing.T) {
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, `{"ticket": {"assigneeId": null, "requesterName": null}}`)
		res.want(t, http.StatusOK, "")
		if tk := res.ticket(t); tk["assigneeId"] != nil || tk["requesterName"] != nil {
			t.Fatalf("null did not clear: %v", tk)
		}
	})
	t.Run("RejectedUpdateChangesNothing", func(t *testing.T) {
		before := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)
		e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, map[string]any{"ticket": map[string]any{"status": "closed", "priority": "extreme"}}).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.priority")
		after := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("a rejected PUT changed the ticket: %v -> %v", before, after)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res := e.do("DELETE", base+"/tickets/"+id, helpdesk.PermWrite, nil)
		res.want(t, http.StatusNoContent, "")
		if len(res.raw) != 0 {
			t.Fatalf("204 with a body: %q", res.raw)
		}
		e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, `{"ticket":{"status":"open"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("DELETE", base+"/tickets/"+id, helpdesk.PermWrite, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
}

func TestCreateFullTicket(t *testing.T) {
	e, _ := newAPI(t)
	plan := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, map[string]any{"customField": map[string]any{"name": "Plan", "type": "dropdown", "options": []string{"Pro", "Enterprise"}}})
	plan.want(t, http.StatusCreated, "")
	planID := plan.body["customField"].(map[string]any)["id"].(string)
	seats := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":"Seats","type":"number"}}`)
	seats.want(t, http.StatusCreated, "")
	seatsID := seats.body["customField"].(map[string]any)["id"].(string)
	tk := e.createTicket(map[string]any{
		"subject": "Cannot log in", "status": "open", "priority": "high", "type": "incident",
		"requesterEmail": "customer@example.com", "requesterName": "Jane Doe", "assigneeId": "usr_abc123",
		"tags": []string{"billing", "urgent"}, "customFields": []map[string]any{{"id": planID, "value": "Enterprise"}, {"id": seatsID, "value": 12}},
	})
	if fmt.Sprint(tk["customFields"]) != fmt.Sprintf("[map[id:%s value:Enterprise] map[id:%s value:12]]", planID, seatsID) {
		t.Fatalf("customFields %v", tk["customFields"])
	}
	id := tk["id"].(string)
	t.Run("MergeByID", func(t *testing.T) {
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, fmt.Sprintf(`{"ticket":{"customFields":[{"id":%q,"value":"Pro"},{"id":%q,"value":null}]}}`, planID, seatsID))
		res.want(t, http.StatusOK, "")
		if got := fmt.Sprint(res.ticket(t)["customFields"]); got != fmt.Sprintf("[map[id:%s value:Pro]]", planID) {
			t.Fatalf("merged customFields %s", got)
		}
	})
	t.Run("ValuesCheckedAgainstDefinitions", func(t *testing.T) {
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, fmt.Sprintf(`{"ticket":{"customFields":[{"id":%q,"value":"Gold"},{"id":%q,"value":"twelve"},{"id":"cf_nosuchfield","value":1}]}}`, planID, seatsID))
		res.want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.customFields[0].value", "ticket.customFields[1].value", "ticket.customFields[2].id")
	})
	t.Run("DeletedDefinitionValueCanBeRemoved", func(t *testing.T) {
		e.do("DELETE", base+"/custom_fields/"+planID, helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, fmt.Sprintf(`{"ticket":{"customFields":[{"id":%q,"value":null}]}}`, planID))
		res.want(t, http.StatusOK, "")
		if got := fmt.Sprint(res.ticket(t)["customFields"]); got != "[]" {
			t.Fatalf("customFields %s", got)
		}
	})
}

// TestBadInput walks the body, limit and path rules: each case names the
// status, code and exact fields of the answer.
func TestBadInput(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   helpdesk.Code
		fields []string
	}{
		{"EmptyBody", "POST", "/tickets", "", 400, helpdesk.CodeBadRequest, nil},
		{"NotJSON", "POST", "/tickets", "subject=hi", 400, helpdesk.CodeBadRequest, nil},
		{"TruncatedJSON", "POST", "/tickets", `{"ticket": {"subject": "x"`, 400, helpdesk.CodeBadRequest, nil},
		{"NotObject", "POST", "/tickets", `["ticket"]`, 400, helpdesk.CodeBadRequest, nil},
		{"NoTicket", "POST", "/tickets", `{"subject": "x"}`, 400, helpdesk.CodeBadRequest, nil},
		{"TicketNotObject", "POST", "/tickets", `{"ticket": "x"}`, 400, helpdesk.CodeBadRequest, nil},
		{"TicketNull", "PUT", "/tickets/" + id, `{"ticket": null}`, 400, helpdesk.CodeBadRequest, nil},
		{"MissingSubject", "POST", "/tickets", `{"ticket": {}}`, 422, helpdesk.CodeValidation, []string{"ticket.subject"}},
		{"BlankSubject", "POST", "/tickets", `{"ticket": {"subject": " \t "}}`, 422, helpdesk.CodeValidation, []string{"ticket.subject"}},
		{"UnknownAndReadOnly", "POST", "/tickets", `{"ticket": {"subject": "x", "id": "tkt_a", "createdAt": "2026", "updatedAt": "2026", "color": "red"}, "extra": 1}`, 422, helpdesk.CodeValidation,
			[]string{"extra", "ticket.color", "ticket.createdAt", "ticket.id", "ticket.updatedAt"}},
		{"WrongTypes", "POST", "/tickets", `{"ticket": {"subject": 5, "status": true, "tags": "a", "assigneeId": 7, "customFields": {}}}`, 422, helpdesk.CodeValidation,
			[]string{"ticket.assigneeId", "ticket.customFields", "ticket.status", "ticket.subject", "ticket.tags"}},
		{"NullNotNullable", "PUT", "/tickets/" + id, `{"ticket": {"subject": null, "status": null, "tags": null}}`, 422, helpdesk.CodeValidation,
			[]string{"ticket.status", "ticket.subject", "ticket.tags"}},
		{"BadEnums", "POST", "/tickets", `{"ticket": {"subject": "x", "status": "done", "priority": "HIGH", "type": "bug"}}`, 422, helpdesk.CodeValidation,
			[]string{"ticket.status", "ticket.priority", "ticket.type"}},
		{"BadEmail", "POST", "/tickets", `{"ticket": {"subject": "x", "requesterEmail": "Jane <jane@example.com>"}}`, 422, helpdesk.CodeValidation, []string{"ticket.requesterEmail"}},
		{"BadAssignee", "POST", "/tickets", `{"ticket": {"subject": "x", "assigneeId": "agent_1"}}`, 422, helpdesk.CodeValidation, []string{"ticket.assigneeId"}},
		{"BadTags", "POST", "/tickets", map[string]any{"ticket": map[string]any{"subject": "x", "tags": []any{"ok", "", long(101), 3}}}, 422, helpdesk.CodeValidation,
			[]string{"ticket.tags[3]", "ticket.tags[1]", "ticket.tags[2]"}},
		{"BadCustomFieldShape", "POST", "/tickets", `{"ticket": {"subject": "x", "customFields": [1, {"value": 1}, {"id": "cf_a"}, {"id": "cf_a", "value": [1]}, {"id": "cf_b", "value": 1, "x": 2}]}}`, 422, helpdesk.CodeValidation,
			[]string{"ticket.customFields[0]", "ticket.customFields[1].id", "ticket.customFields[2].value", "ticket.customFields[3].value", "ticket.customFields[4].x"}},
		{"CustomFieldEntriesKeepPositions", "POST", "/tickets", `{"ticket": {"subject": "x", "customFields": [{"id": "cf_aaaa", "value": [1]}, {"id": "cf_unknown", "value": "a"}, {"id": "cf_bbbb", "value": null}]}}`, 422, helpdesk.CodeValidation,
			[]string{"ticket.customFields[0].value", "ticket.customFields[2].value", "ticket.customFields[1].id"}},
		{"NullValueOnCreate", "POST", "/tickets", `{"ticket": {"subject": "x", "customFields": [{"id": "cf_a", "value": null}]}}`, 422, helpdesk.CodeValidation, []string{"ticket.customFields[0].value"}},
		{"OddID", "GET", "/tickets/" + url.PathEscape("tkt_\x00\xff'\"<>"), nil, 404, helpdesk.CodeNotFound, nil},
		{"LongID", "GET", "/tickets/tkt_" + long(5000), nil, 404, helpdesk.CodeNotFound, nil},
		{"OtherPrefixID", "DELETE", "/tickets/cf_abc", nil, 404, helpdesk.CodeNotFound, nil},
		{"EncodedSlashID", "PUT", "/tickets/tkt_a%2Fb", `{"ticket": {}}`, 404, helpdesk.CodeNotFound, nil},
		{"UnknownRoute", "GET", "/ticket", nil, 404, helpdesk.CodeNotFound, nil},
		{"TrailingSlash", "GET", "/tickets/", nil, 404, helpdesk.CodeNotFound, nil},
		{"WrongMethod", "PATCH", "/tickets/" + id, `{}`, 405, helpdesk.CodeMethodNotAllowed, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, base+tc.path, helpdesk.PermAdmin, tc.body)
			res.want(t, tc.status, tc.code, tc.fields...)
		})
	}
	t.Run("NothingWasWritten", func(t *testing.T) {
		res := e.do("GET", base+"/tickets", helpdesk.PermRead, nil)
		if n := len(res.body["tickets"].([]any)); n != 1 {
			t.Fatalf("%d tickets after the bad requests, want 1", n)
		}
	})
	t.Run("AllowHeader", func(t *testing.T) {
		res := e.do("POST", base+"/tickets/"+id, helpdesk.PermAdmin, `{}`)
		if allow := res.header.Get("Allow"); allow != "GET, HEAD, PUT, DELETE" {
			t.Fatalf("Allow %q", allow)
		}
	})
}

func TestConcurrentPutsLoseNothing(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	fields := map[string]any{"status": "open", "priority": "urgent", "type": "task", "requesterName": "R", "requesterEmail": "r@example.com", "assigneeId": "usr_q"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	status := map[string]int{}
	for k, v := range fields {
		wg.Go(func() {
			s := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, map[string]any{"ticket": map[string]any{k: v}}).status
			mu.Lock()
			status[k] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	final := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)
	ok := 0
	for k, v := range fields {
		switch status[k] {
		case http.StatusOK:
			ok++
			if final[k] != v {
				t.Errorf("%s = %v, want %v: a concurrent change was lost", k, final[k], v)
			}
		case http.StatusConflict: // allowed under contention; the change was not made
		default:
			t.Errorf("PUT of %s answered %d", k, status[k])
		}
	}
	if ok == 0 {
		t.Fatal("no concurrent PUT succeeded")
	}
}
