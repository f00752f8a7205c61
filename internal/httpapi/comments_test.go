package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// comment returns the comment of an answer.
func (r response) comment(tb testing.TB) map[string]any {
	tb.Helper()
	c, ok := r.body["comment"].(map[string]any)
	if !ok {
		tb.Fatalf("no comment in %s", r.raw)
	}
	return c
}

// addComment posts a comment and returns it.
func (e *env) addComment(ticketID string, fields map[string]any) map[string]any {
	e.tb.Helper()
	res := e.do("POST", base+"/tickets/"+ticketID+"/comments", helpdesk.PermWrite, map[string]any{"comment": fields})
	res.want(e.tb, http.StatusCreated, "")
	return res.comment(e.tb)
}

func TestCommentCreate(t *testing.T) {
	e, _ := newAPI(t)
	tk := e.createTicket(map[string]any{"subject": "Printer on fire"})
	id := tk["id"].(string)
	path := base + "/tickets/" + id
	before := e.do("GET", path, helpdesk.PermRead, nil)

	res := e.do("POST", path+"/comments", helpdesk.PermWrite, `{"comment": {"body": "Thanks, we are looking into it.", "authorId": "usr_abc123"}}`)
	res.want(t, http.StatusCreated, "")
	c := res.comment(t)
	if loc := res.header.Get("Location"); loc != path+"/comments/"+c["id"].(string) {
		t.Fatalf("Location %q", loc)
	}
	want := map[string]any{"ticketId": id, "body": "Thanks, we are looking into it.", "public": true, "authorId": "usr_abc123", "authorEmail": nil, "authorName": nil, "redactedAt": nil}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("comment %s = %v, want %v", k, c[k], v)
		}
	}
	if !helpdesk.ValidCommentID(c["id"].(string)) || len(c) != 10 || len(c["attachments"].([]any)) != 0 {
		t.Fatalf("comment %v", c)
	}
	after := e.do("GET", path, helpdesk.PermRead, nil)
	if after.ticket(t)["updatedAt"] != c["createdAt"] || after.header.Get("ETag") == before.header.Get("ETag") {
		t.Fatalf("the ticket after a comment: updatedAt %v (comment %v), ETag %s (was %s)", after.ticket(t)["updatedAt"], c["createdAt"], after.header.Get("ETag"), before.header.Get("ETag"))
	}
	if after.ticket(t)["status"] != "new" {
		t.Fatalf("an agent's comment changed the status to %v", after.ticket(t)["status"])
	}
	note := e.addComment(id, map[string]any{"body": "Customer is on the Pro plan.", "authorId": "usr_abc123", "public": false})
	if note["public"] != false {
		t.Fatalf("internal note %v", note)
	}
}

func TestCustomerCommentReopens(t *testing.T) {
	e, _ := newAPI(t)
	for status, want := range map[string]string{"new": "new", "open": "open", "pending": "open", "resolved": "open"} {
		t.Run(status, func(t *testing.T) {
			id := e.createTicket(map[string]any{"subject": "x", "status": status})["id"].(string)
			e.addComment(id, map[string]any{"body": "Any news?", "authorEmail": "jane@example.com", "authorName": "Jane Doe"})
			if got := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)["status"]; got != want {
				t.Fatalf("after a customer's comment on a %s ticket: %v, want %s", status, got, want)
			}
			if status == "pending" {
				e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, `{"ticket": {"status": "pending"}}`).want(t, http.StatusOK, "")
				e.addComment(id, map[string]any{"body": "Waiting on you.", "authorId": "usr_a"})
				if got := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)["status"]; got != "pending" {
					t.Fatalf("an agent's comment changed pending to %v", got)
				}
			}
		})
	}
}

func TestCommentOnClosedTicket(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x", "status": "closed"})["id"].(string)
	res := e.do("POST", base+"/tickets/"+id+"/comments", helpdesk.PermWrite, `{"comment": {"body": "Hello?", "authorEmail": "jane@example.com"}}`)
	res.want(t, http.StatusConflict, helpdesk.CodeConflict)
	if msg := res.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "closed") {
		t.Fatalf("message %q does not say the ticket is closed", msg)
	}
	if tk := e.stored(id); tk.Version != 1 || len(e.comments(id)) != 0 {
		t.Fatalf("a refused comment wrote: %+v, %d comments", tk, len(e.comments(id)))
	}
}

func TestCommentLimit(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	if _, err := e.clean.UpdateTicket(context.Background(), id, func(tk *helpdesk.Ticket) (bool, error) {
		tk.Comments = helpdesk.MaxCommentsPerTicket - 1
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.addComment(id, map[string]any{"body": "the 5000th", "authorId": "usr_a"})
	e.do("POST", base+"/tickets/"+id+"/comments", helpdesk.PermWrite, `{"comment": {"body": "one too many", "authorId": "usr_a"}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment")
	if n := len(e.comments(id)); n != 1 {
		t.Fatalf("%d comments stored, want the 5000th only", n)
	}
}

func TestCommentBadInput(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	path := base + "/tickets/" + id + "/comments"
	cases := []struct {
		name   string
		body   string
		status int
		fields []string
	}{
		{"NotJSON", `{"comment":`, http.StatusBadRequest, nil},
		{"NoWrapper", `{"body": "x"}`, http.StatusBadRequest, nil},
		{"WrapperNotObject", `{"comment": "x"}`, http.StatusBadRequest, nil},
		{"NoAuthor", `{"comment": {"body": "x"}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"NullAuthors", `{"comment": {"body": "x", "authorId": null, "authorEmail": null}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"TwoAuthors", `{"comment": {"body": "x", "authorId": "usr_a", "authorEmail": "a@example.com"}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"CustomerNote", `{"comment": {"body": "x", "authorEmail": "a@example.com", "public": false}}`, http.StatusUnprocessableEntity, []string{"comment.public"}},
		{"PublicNotBool", `{"comment": {"body": "x", "authorId": "usr_a", "public": "no"}}`, http.StatusUnprocessableEntity, []string{"comment.public"}},
		{"EmptyAgentWithCustomer", `{"comment": {"body": "x", "authorId": "", "authorEmail": "a@example.com"}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"EmptyEmailWithAgent", `{"comment": {"body": "x", "authorId": "usr_a", "authorEmail": ""}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"BadAgent", `{"comment": {"body": "x", "authorId": "agent 7"}}`, http.StatusUnprocessableEntity, []string{"comment.authorId"}},
		{"BadEmail", `{"comment": {"body": "x", "authorEmail": "jane"}}`, http.StatusUnprocessableEntity, []string{"comment.authorEmail"}},
		{"NoBody", `{"comment": {"authorId": "usr_a"}}`, http.StatusUnprocessableEntity, []string{"comment.body"}},
		{"BlankBody", `{"comment": {"body": "  ", "authorId": "usr_a"}}`, http.StatusUnprocessableEntity, []string{"comment.body"}},
		{"BodyNotString", `{"comment": {"body": 7, "authorId": "usr_a"}}`, http.StatusUnprocessableEntity, []string{"comment.body"}},
		{"LongBody", `{"comment": {"body": "` + strings.Repeat("a", helpdesk.MaxCommentBytes+1) + `", "authorId": "usr_a"}}`, http.StatusUnprocessableEntity, []string{"comment.body"}},
		{"ReadOnly", `{"comment": {"body": "x", "authorId": "usr_a", "id": "cmt_x", "createdAt": "2026-01-01T00:00:00.000Z"}}`, http.StatusUnprocessableEntity, []string{"comment.createdAt", "comment.id"}},
		{"Unknown", `{"comment": {"body": "x", "authorId": "usr_a", "attachments": []}, "extra": 1}`, http.StatusUnprocessableEntity, []string{"extra", "comment.attachments"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := helpdesk.CodeValidation
			if tc.status == http.StatusBadRequest {
				code = helpdesk.CodeBadRequest
			}
			e.do("POST", path, helpdesk.PermWrite, tc.body).want(t, tc.status, code, tc.fields...)
		})
	}
	if tk := e.stored(id); tk.Version != 1 || len(e.comments(id)) != 0 {
		t.Fatalf("refused comments wrote: %+v", tk)
	}
	e.do("POST", base+"/tickets/tkt_nosuchticketatall/comments", helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	e.do("POST", base+"/tickets/nonsense/comments", helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	e.do("POST", path, helpdesk.PermRead, `{"comment": {"body": "x", "authorId": "usr_a"}}`).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
}

func TestCommentList(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	path := base + "/tickets/" + id + "/comments"
	var made []string
	for i := range 7 {
		fields := map[string]any{"body": strings.Repeat("m", i+1), "authorId": "usr_a"}
		if i%3 == 1 {
			fields["public"] = false
		}
		made = append(made, e.addComment(id, fields)["id"].(string))
	}
	walk := func(query string) []string {
		t.Helper()
		var got []string
		next := path + "?" + query
		for range 20 {
			res := e.do("GET", next, helpdesk.PermRead, nil)
			res.want(t, http.StatusOK, "")
			for _, c := range res.body["comments"].([]any) {
				got = append(got, c.(map[string]any)["id"].(string))
			}
			link, _ := res.body["links"].(map[string]any)["next"].(string)
			if more := res.body["meta"].(map[string]any)["hasMore"].(bool); more != (link != "") {
				t.Fatalf("hasMore %v with next %q", more, link)
			}
			if link == "" {
				return got
			}
			next = link
		}
		t.Fatal("the walk does not end")
		return nil
	}
	if got := walk("page_size=3"); strings.Join(got, ",") != strings.Join(made, ",") {
		t.Fatalf("oldest first: %v, want %v", got, made)
	}
	desc := walk("page_size=2&sort_order=desc")
	for i := range desc {
		if desc[i] != made[len(made)-1-i] {
			t.Fatalf("newest first: %v", desc)
		}
	}
	if got := walk("public=false"); len(got) != 2 || got[0] != made[1] || got[1] != made[4] {
		t.Fatalf("internal notes: %v", got)
	}
	if got := walk("public=true&page_size=1"); len(got) != 5 {
		t.Fatalf("public replies: %v", got)
	}
	for query, field := range map[string]string{"page_size=0": "page_size", "page_size=101": "page_size", "sort_order=up": "sort_order", "public=yes": "public", "status=open": "status", "sort_by=created_at": "sort_by"} {
		e.do("GET", path+"?"+query, helpdesk.PermRead, nil).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, field)
	}
	first := e.do("GET", path+"?page_size=1", helpdesk.PermRead, nil)
	cursor := first.body["links"].(map[string]any)["next"].(string)
	link, err := url.Parse(cursor)
	if err != nil {
		t.Fatal(err)
	}
	after := url.QueryEscape(link.Query().Get("after"))
	e.do("GET", path+"?sort_order=desc&after="+after, helpdesk.PermRead, nil).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
	e.do("GET", path+"?after=garbage", helpdesk.PermRead, nil).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
	other := e.createTicket(map[string]any{"subject": "y"})["id"].(string)
	e.do("GET", base+"/tickets/"+other+"/comments?page_size=1&after="+after, helpdesk.PermRead, nil).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
	e.do("GET", base+"/tickets/tkt_nosuchticketatall/comments", helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
}

func TestCommentGetAndRedact(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	c := e.addComment(id, map[string]any{"body": "my card is 4111 1111 1111 1111", "authorEmail": "jane@example.com"})
	path := base + "/tickets/" + id + "/comments/" + c["id"].(string)
	got := e.do("GET", path, helpdesk.PermRead, nil)
	got.want(t, http.StatusOK, "")
	if got.comment(t)["body"] != c["body"] {
		t.Fatalf("get: %s", got.raw)
	}
	tkBefore := e.stored(id)
	red := e.do("POST", path+"/redact", helpdesk.PermWrite, nil)
	red.want(t, http.StatusOK, "")
	rc := red.comment(t)
	if rc["body"] != "" || rc["redactedAt"] == nil || rc["id"] != c["id"] || rc["createdAt"] != c["createdAt"] {
		t.Fatalf("redacted: %v", rc)
	}
	again := e.do("POST", path+"/redact", helpdesk.PermWrite, nil)
	again.want(t, http.StatusOK, "")
	if string(again.raw) != string(red.raw) {
		t.Fatalf("redacting again changed the answer: %s, was %s", again.raw, red.raw)
	}
	if got := e.do("GET", path, helpdesk.PermRead, nil).comment(t); got["body"] != "" || got["redactedAt"] != rc["redactedAt"] {
		t.Fatalf("after redaction: %v", got)
	}
	if tk := e.stored(id); tk.Version != tkBefore.Version {
		t.Fatal("a redaction wrote the ticket")
	}
	other := e.createTicket(map[string]any{"subject": "y"})["id"].(string)
	for _, p := range []string{
		base + "/tickets/" + other + "/comments/" + c["id"].(string),
		base + "/tickets/" + id + "/comments/cmt_00000000000000000000000000",
		base + "/tickets/" + id + "/comments/nonsense",
	} {
		e.do("GET", p, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("POST", p+"/redact", helpdesk.PermWrite, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	}
	e.do("POST", path+"/redact", helpdesk.PermRead, nil).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
}

func TestIdempotentComment(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	path := base + "/tickets/" + id + "/comments"
	write := e.keys[helpdesk.PermWrite]
	body := `{"comment": {"body": "Sent once.", "authorId": "usr_a"}}`
	first := e.doHeader("POST", path, write, withKey("reply-1"), body)
	first.want(t, http.StatusCreated, "")
	again := e.doHeader("POST", path, write, withKey("reply-1"), body)
	again.want(t, http.StatusCreated, "")
	if again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(first.raw) || again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay: %v %s", again.header, again.raw)
	}
	if n := len(e.comments(id)); n != 1 {
		t.Fatalf("%d comments after a retried create, want 1", n)
	}
	e.doHeader("POST", path, write, withKey("reply-1"), `{"comment": {"body": "Another.", "authorId": "usr_a"}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "Idempotency-Key")
	other := e.createTicket(map[string]any{"subject": "y"})["id"].(string)
	e.doHeader("POST", base+"/tickets/"+other+"/comments", write, withKey("reply-1"), body).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "Idempotency-Key")
}
