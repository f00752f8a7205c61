package suite_test

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
)

// The conversations of tickets, through the comments function. This file
// sorts after suite_test.go so that its ticket changes come after
// TestWebhooks (see there); the comment webhooks are TestCommentWebhooks'.

var commentID = regexp.MustCompile(`^cmt_[0-9a-v]{26}$`)

// commentMembers are the members of a comment object, every one always
// present.
var commentMembers = []string{"attachments", "authorEmail", "authorId", "authorName", "body", "createdAt", "id", "public", "redactedAt", "ticketId"}

// commentsURL is the URL of a ticket's conversation, or of what lies under
// it (a comment, its redaction) when rest is given.
func commentsURL(ticketID string, rest ...string) string {
	u := api("/tickets/" + ticketID + "/comments")
	for _, r := range rest {
		u += "/" + r
	}
	return u
}

// addComment posts {"comment": fields} to a ticket's conversation with the
// write key.
func addComment(t *testing.T, ticketID string, fields map[string]any) *response {
	t.Helper()
	return do(t, "POST", commentsURL(ticketID), target.keys.Write, map[string]any{"comment": fields})
}

// newComment adds a comment that must be created, checks the answer
// (checkComment, and its Location) and returns the comment.
func newComment(t *testing.T, ticketID string, fields map[string]any) map[string]any {
	t.Helper()
	res := addComment(t, ticketID, fields).want(t, http.StatusCreated)
	c := res.object(t, "comment")
	want := map[string]any{"body": fields["body"], "public": true, "authorId": nil, "authorEmail": nil, "authorName": nil}
	for k, v := range fields {
		want[k] = v
	}
	checkComment(t, c, ticketID, want)
	base, _ := url.Parse(target.api)
	if loc := res.header.Get("Location"); loc != base.Path+"/tickets/"+ticketID+"/comments/"+c["id"].(string) {
		t.Fatalf("Location %q for comment %s of %s", loc, c["id"], ticketID)
	}
	return c
}

// checkComment fails unless c is a comment object of the ticket, not
// redacted, with exactly the members of the contract, and the values want
// gives.
func checkComment(t *testing.T, c map[string]any, ticketID string, want map[string]any) {
	t.Helper()
	var members []string
	for k := range c {
		members = append(members, k)
	}
	slices.Sort(members)
	if !slices.Equal(members, commentMembers) {
		t.Fatalf("comment members %v, want %v", members, commentMembers)
	}
	id, _ := c["id"].(string)
	created, _ := c["createdAt"].(string)
	if !commentID.MatchString(id) || c["ticketId"] != ticketID || !timeFormat.MatchString(created) || c["redactedAt"] != nil {
		t.Fatalf("comment %v of ticket %s", c, ticketID)
	}
	for k, v := range want {
		if c[k] != v {
			t.Fatalf("comment %s = %#v, want %#v (%v)", k, c[k], v, c)
		}
	}
}

// ticketNow reads a ticket and returns it with its ETag.
func ticketNow(t *testing.T, id string) (map[string]any, string) {
	t.Helper()
	res := do(t, "GET", api("/tickets/"+id), target.keys.Read, nil).want(t, http.StatusOK)
	tag := res.header.Get("ETag")
	if tag == "" {
		t.Fatalf("GET ticket %s without an ETag", id)
	}
	return res.object(t, "ticket"), tag
}

// walkComments lists a ticket's conversation from query on, following
// links.next as given, and returns the comments and the next links.
func walkComments(t *testing.T, ticketID, query string) ([]map[string]any, []string) {
	t.Helper()
	var comments []map[string]any
	var links []string
	next := commentsURL(ticketID) + "?" + query
	for pages := 1; ; pages++ {
		if pages > 20 {
			t.Fatal("more than 20 pages")
		}
		res := do(t, "GET", next, target.keys.Read, nil).want(t, http.StatusOK)
		page, ok := res.body["comments"].([]any)
		if !ok {
			t.Fatalf("no comments list in %s", res.raw)
		}
		for _, c := range page {
			comments = append(comments, c.(map[string]any))
		}
		meta, linksObj := res.object(t, "meta"), res.object(t, "links")
		link, hasLink := linksObj["next"].(string)
		if meta["hasMore"] != hasLink || (hasLink && len(page) == 0) {
			t.Fatalf("page %d: hasMore %v, next %v, %d comments", pages, meta["hasMore"], linksObj["next"], len(page))
		}
		if size, _ := meta["pageSize"].(float64); int(size) < len(page) || size < 1 {
			t.Fatalf("page %d: %d comments, pageSize %v", pages, len(page), meta["pageSize"])
		}
		if !hasLink {
			return comments, links
		}
		links = append(links, link)
		next = follow(t, link)
	}
}

// idsOf returns the ids of objects.
func idsOf(objects []map[string]any) []string {
	out := make([]string, len(objects))
	for i, o := range objects {
		out[i], _ = o["id"].(string)
	}
	return out
}

// partition returns every item in a ticket's partition of the local
// stack's table, read consistently: the ticket and its comments, or a
// deleted ticket's tombstone.
func partition(t *testing.T, stack *e2e.Stack, ticketID string) []map[string]types.AttributeValue {
	t.Helper()
	return dynamotest.TicketPartition(t, stack.DynamoDB(), e2e.TableName, ticketID)
}

// sortKeys returns the sort keys of items, sorted.
func sortKeys(items []map[string]types.AttributeValue) []string {
	var out []string
	for _, it := range items {
		if sk, ok := it["sk"].(*types.AttributeValueMemberS); ok {
			out = append(out, sk.Value)
		}
	}
	slices.Sort(out)
	return out
}

// awaitPurged waits until nothing of a purged ticket remains in the
// table: the purge removed its tombstone (sort key DELETED, the trash's
// entry), and the dispatch function purges its comments when that
// removal reaches it through the stream.
func awaitPurged(t *testing.T, stack *e2e.Stack, ticketID string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		items := partition(t, stack, ticketID)
		if len(items) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after the ticket's purge, its partition holds %v, want nothing", within, sortKeys(items))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestComments carries a conversation through every comment route: agent
// replies, an internal note and customer replies that reopen the ticket,
// reads, both orders across pages, the public filter, redaction, the
// ticket's deletion keeping its comments in the trash, and its purge
// taking them with it.
func TestComments(t *testing.T) {
	needTarget(t)
	agent := "usr_e2e-" + unique()
	const customer = "customer@example.com"
	tk := createTicket(t, map[string]any{"subject": "Comments end to end", "status": "pending", "requesterEmail": customer, "assigneeId": agent})
	id := tk["id"].(string)
	_, createdTag := ticketNow(t, id)

	var all []map[string]any // the comments in the order they were made
	// comment adds a comment and checks what it did to the ticket: its
	// updatedAt is the comment's createdAt, its ETag changed, and its
	// status is wantStatus.
	comment := func(t *testing.T, fields map[string]any, wantStatus string) map[string]any {
		t.Helper()
		before, tag := ticketNow(t, id)
		c := newComment(t, id, fields)
		after, newTag := ticketNow(t, id)
		if after["updatedAt"] != c["createdAt"] || newTag == tag || after["status"] != wantStatus {
			t.Fatalf("after comment %v the ticket is %v with ETag %s (was %s, %v), want updatedAt = createdAt, a new ETag and status %s",
				c, after, newTag, tag, before, wantStatus)
		}
		if c["createdAt"].(string) <= before["updatedAt"].(string) {
			t.Fatalf("comment createdAt %s is not after the ticket's last change %s", c["createdAt"], before["updatedAt"])
		}
		all = append(all, c)
		return c
	}

	t.Run("AgentReplyKeepsStatus", func(t *testing.T) {
		c := comment(t, map[string]any{"body": "Have you tried turning it off and on again?", "authorId": agent}, "pending")
		if c["public"] != true {
			t.Fatalf("public defaults to true: %v", c)
		}
		// The comment moved the ticket's version: a write conditional on
		// the ETag from before it fails.
		doWith(t, "PUT", api("/tickets/"+id), target.keys.Write, http.Header{"If-Match": {createdTag}}, `{"ticket": {"priority": "high"}}`).
			wantError(t, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	})
	t.Run("InternalNote", func(t *testing.T) {
		comment(t, map[string]any{"body": "Customer is on the legacy plan.", "public": false, "authorId": agent}, "pending")
	})
	t.Run("CustomerReplyReopensPending", func(t *testing.T) {
		comment(t, map[string]any{"body": "Still broken after a restart.", "authorEmail": customer, "authorName": "Ada Lovelace"}, "open")
	})
	t.Run("CustomerReplyReopensResolved", func(t *testing.T) {
		do(t, "PUT", api("/tickets/"+id), target.keys.Write, `{"ticket": {"status": "resolved"}}`).want(t, http.StatusOK)
		comment(t, map[string]any{"body": "Fixed by the firmware update.", "public": true, "authorId": agent}, "resolved")
		comment(t, map[string]any{"body": "No it is not, sorry!", "authorEmail": customer}, "open")
	})
	if len(all) != 5 {
		t.FailNow()
	}
	ids := idsOf(all)
	if !slices.IsSorted(ids) {
		t.Fatalf("comment ids %v are not in creation order", ids)
	}
	publicOnes := slices.DeleteFunc(slices.Clone(all), func(c map[string]any) bool { return c["public"] != true })

	t.Run("Get", func(t *testing.T) {
		for _, c := range all {
			got := do(t, "GET", commentsURL(id, c["id"].(string)), target.keys.Read, nil).want(t, http.StatusOK).object(t, "comment")
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("got %v, want %v", got, c)
			}
		}
	})
	t.Run("ListOldestFirstAcrossPages", func(t *testing.T) {
		got, links := walkComments(t, id, "page_size=2")
		if !reflect.DeepEqual(got, all) || len(links) != 2 {
			t.Fatalf("walked %v over %d next links, want %v over 2", idsOf(got), len(links), ids)
		}
		for _, link := range links {
			u, err := url.Parse(link)
			if err != nil || u.Path != basePath+"/tickets/"+id+"/comments" || u.Query().Get("page_size") != "2" || u.Query().Get("after") == "" {
				t.Fatalf("next link %q", link)
			}
			if strings.Contains(link, "cmt_") {
				t.Fatalf("the cursor shows an id: %s", link)
			}
		}
		res := do(t, "GET", commentsURL(id), target.keys.Read, nil).want(t, http.StatusOK)
		if res.object(t, "meta")["pageSize"] != 25.0 || res.object(t, "meta")["hasMore"] != false || res.object(t, "links")["next"] != nil {
			t.Fatalf("default page: %s", res.raw)
		}
		asc, _ := walkComments(t, id, "sort_order=asc")
		if !slices.Equal(idsOf(asc), ids) {
			t.Fatalf("sort_order=asc gave %v, want %v", idsOf(asc), ids)
		}
	})
	t.Run("ListNewestFirstAcrossPages", func(t *testing.T) {
		got, links := walkComments(t, id, "sort_order=desc&page_size=2")
		want := slices.Clone(all)
		slices.Reverse(want)
		if !reflect.DeepEqual(got, want) || len(links) != 2 {
			t.Fatalf("walked %v over %d next links, want %v over 2", idsOf(got), len(links), idsOf(want))
		}
		for _, link := range links {
			if u, err := url.Parse(link); err != nil || u.Query().Get("sort_order") != "desc" {
				t.Fatalf("next link %q lost sort_order=desc", link)
			}
		}
	})
	t.Run("PublicFilter", func(t *testing.T) {
		got, links := walkComments(t, id, "public=true&page_size=1")
		if !reflect.DeepEqual(got, publicOnes) || len(links) != len(publicOnes)-1 {
			t.Fatalf("public=true walked %v over %d links, want %v", idsOf(got), len(links), idsOf(publicOnes))
		}
		for _, link := range links {
			if u, err := url.Parse(link); err != nil || u.Query().Get("public") != "true" {
				t.Fatalf("next link %q lost public=true", link)
			}
		}
		notes, _ := walkComments(t, id, "public=false&sort_order=desc")
		if len(notes) != 1 || !reflect.DeepEqual(notes[0], all[1]) {
			t.Fatalf("public=false gave %v, want the internal note %s", idsOf(notes), all[1]["id"])
		}
	})
	t.Run("RedactTwice", func(t *testing.T) {
		target0 := all[0]
		path := commentsURL(id, target0["id"].(string), "redact")
		first := do(t, "POST", path, target.keys.Write, nil).want(t, http.StatusOK).object(t, "comment")
		redactedAt, _ := first["redactedAt"].(string)
		if first["body"] != "" || !timeFormat.MatchString(redactedAt) || redactedAt < target0["createdAt"].(string) {
			t.Fatalf("redacted %v", first)
		}
		for k, v := range target0 {
			if k != "body" && k != "redactedAt" && !reflect.DeepEqual(first[k], v) {
				t.Fatalf("redaction changed %s: %v, was %v", k, first[k], v)
			}
		}
		again := do(t, "POST", path, target.keys.Write, nil).want(t, http.StatusOK).object(t, "comment")
		if !reflect.DeepEqual(again, first) {
			t.Fatalf("redacting again gave %v, the first time %v", again, first)
		}
		got := do(t, "GET", commentsURL(id, target0["id"].(string)), target.keys.Read, nil).want(t, http.StatusOK).object(t, "comment")
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("GET after redaction %v, want %v", got, first)
		}
		listed, _ := walkComments(t, id, "")
		if len(listed) != len(all) || !reflect.DeepEqual(listed[0], first) || !reflect.DeepEqual(listed[1:], all[1:]) {
			t.Fatalf("after redaction the conversation is %v", listed)
		}
		all[0] = first
	})
	t.Run("PurgingTheTicketPurgesItsComments", func(t *testing.T) {
		if target.local != nil {
			want := []string{"TICKET"}
			for _, c := range all {
				want = append(want, "COMMENT#"+c["id"].(string))
			}
			slices.Sort(want)
			if got := sortKeys(partition(t, target.local, id)); !slices.Equal(got, want) {
				t.Fatalf("the ticket's partition holds %v, want %v", got, want)
			}
		}
		do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)
		do(t, "GET", commentsURL(id), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		for _, c := range all {
			cid := c["id"].(string)
			do(t, "GET", commentsURL(id, cid), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
			do(t, "POST", commentsURL(id, cid, "redact"), target.keys.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		}
		addComment(t, id, map[string]any{"body": "Hello?", "authorEmail": customer}).wantError(t, http.StatusNotFound, "NOT_FOUND")
		if target.local != nil {
			// In the trash the comments stay beside the tombstone.
			want := []string{"DELETED"}
			for _, c := range all {
				want = append(want, "COMMENT#"+c["id"].(string))
			}
			slices.Sort(want)
			if got := sortKeys(partition(t, target.local, id)); !slices.Equal(got, want) {
				t.Fatalf("the trashed ticket's partition holds %v, want %v", got, want)
			}
		}
		do(t, "DELETE", api("/deleted_tickets/"+id), target.keys.Admin, nil).want(t, http.StatusNoContent)
		if target.local != nil {
			// The dispatch function purges the comments once the purge
			// reaches it through the stream.
			awaitPurged(t, target.local, id, 10*time.Second)
		}
	})
}

// TestCommentErrors checks the refusals of the comment routes: a closed
// ticket, invalid comments, malformed bodies and queries, cursors of
// other lists, unknown tickets and comments, keys without the permission,
// and the methods the HTTP API has no route for.
func TestCommentErrors(t *testing.T) {
	needTarget(t)
	k := target.keys
	id := createTicket(t, map[string]any{"subject": "comment errors"})["id"].(string)
	other := createTicket(t, map[string]any{"subject": "comment errors, the other ticket"})["id"].(string)
	agent := "usr_e2e-" + unique()
	first := newComment(t, id, map[string]any{"body": "first", "authorId": agent})
	second := newComment(t, id, map[string]any{"body": "second", "authorId": agent})
	cid := first["id"].(string)

	t.Run("409ClosedTicket", func(t *testing.T) {
		closed := createTicket(t, map[string]any{"subject": "closed", "status": "closed"})["id"].(string)
		_, tag := ticketNow(t, closed)
		addComment(t, closed, map[string]any{"body": "Anyone?", "authorEmail": "customer@example.com"}).wantError(t, http.StatusConflict, "CONFLICT")
		addComment(t, closed, map[string]any{"body": "Note", "public": false, "authorId": agent}).wantError(t, http.StatusConflict, "CONFLICT")
		if _, now := ticketNow(t, closed); now != tag {
			t.Fatalf("a refused comment changed the closed ticket's ETag from %s to %s", tag, now)
		}
		got, _ := walkComments(t, closed, "")
		if len(got) != 0 {
			t.Fatalf("the closed ticket has comments %v", idsOf(got))
		}
	})
	t.Run("422Validation", func(t *testing.T) {
		_, tag := ticketNow(t, id)
		for _, c := range []struct {
			body   any
			fields []string
		}{
			{map[string]any{"comment": map[string]any{"body": "no author"}}, []string{"comment.authorId"}},
			{map[string]any{"comment": map[string]any{"body": "two authors", "authorId": agent, "authorEmail": "a@example.com"}}, []string{"comment.authorId"}},
			{map[string]any{"comment": map[string]any{"body": "a customer's note", "public": false, "authorEmail": "a@example.com"}}, []string{"comment.public"}},
			{map[string]any{"comment": map[string]any{"body": " \n\t ", "authorId": agent}}, []string{"comment.body"}},
			{map[string]any{"comment": map[string]any{"body": "", "authorId": agent}}, []string{"comment.body"}},
			{map[string]any{"comment": map[string]any{"authorId": agent}}, []string{"comment.body"}},
			{map[string]any{"comment": map[string]any{"body": 42, "authorId": agent}}, []string{"comment.body"}},
			{map[string]any{"comment": map[string]any{"body": strings.Repeat("a", 65536) + "é", "authorId": agent}}, []string{"comment.body"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": "agent-7"}}, []string{"comment.authorId"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorEmail": "Ada <ada@example.com>"}}, []string{"comment.authorEmail"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": agent, "authorName": "Agent Smith"}}, []string{"comment.authorName"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorEmail": "a@example.com", "authorName": strings.Repeat("n", 256)}}, []string{"comment.authorName"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": agent, "public": "no"}}, []string{"comment.public"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": agent, "public": nil}}, []string{"comment.public"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": 7}}, []string{"comment.authorId"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": agent, "id": cid, "ticketId": id, "createdAt": first["createdAt"], "redactedAt": nil, "color": "red"}},
				[]string{"comment.id", "comment.ticketId", "comment.createdAt", "comment.redactedAt", "comment.color"}},
			{map[string]any{"comment": map[string]any{"body": "x", "authorId": agent}, "ticket": map[string]any{}}, []string{"ticket"}},
		} {
			addCommentRaw(t, id, c.body).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", c.fields...)
		}
		if _, now := ticketNow(t, id); now != tag {
			t.Fatalf("refused comments changed the ticket's ETag from %s to %s", tag, now)
		}
		got, _ := walkComments(t, id, "")
		if !slices.Equal(idsOf(got), []string{cid, second["id"].(string)}) {
			t.Fatalf("refused comments were stored: %v", idsOf(got))
		}
	})
	t.Run("BodyLimitInBytes", func(t *testing.T) {
		// 32,768 two-byte characters: 65,536 bytes, the most a body takes.
		c := newComment(t, other, map[string]any{"body": strings.Repeat("é", 32768), "authorId": agent})
		if len(c["body"].(string)) != 65536 {
			t.Fatalf("the body came back with %d bytes", len(c["body"].(string)))
		}
		addComment(t, other, map[string]any{"body": strings.Repeat("é", 32768) + "a", "authorId": agent}).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment.body")
	})
	t.Run("400MalformedBody", func(t *testing.T) {
		for _, body := range []any{`{"comment": {"body": "x"`, `{"comments": {"body": "x", "authorId": "usr_a"}}`, `{"comment": "x"}`, `[]`, []byte{0xff, '{', 0x80}} {
			addCommentRaw(t, id, body).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		}
		do(t, "POST", commentsURL(id), k.Write, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
	})
	t.Run("413OverMaxBody", func(t *testing.T) {
		big := map[string]any{"comment": map[string]any{"body": strings.Repeat("a", 256<<10), "authorId": agent}}
		addCommentRaw(t, id, big).wantError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	})
	t.Run("401And403", func(t *testing.T) {
		do(t, "GET", commentsURL(id), "", nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
		do(t, "GET", commentsURL(id, cid), "", nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
		do(t, "POST", commentsURL(id), k.Read, map[string]any{"comment": map[string]any{"body": "x", "authorId": agent}}).wantError(t, http.StatusForbidden, "FORBIDDEN")
		do(t, "POST", commentsURL(id, cid, "redact"), k.Read, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
		got := do(t, "GET", commentsURL(id, cid), k.Read, nil).want(t, http.StatusOK).object(t, "comment")
		if got["body"] != "first" {
			t.Fatalf("a refused redaction redacted: %v", got)
		}
	})
	t.Run("404", func(t *testing.T) {
		unknownTicket := "tkt_" + strings.Repeat("a", 24)
		unknownComment := "cmt_" + strings.Repeat("0", 26)
		valid := map[string]any{"body": "x", "authorId": agent}
		for _, ticket := range []string{unknownTicket, "not-a-ticket"} {
			addComment(t, ticket, valid).wantError(t, http.StatusNotFound, "NOT_FOUND")
			do(t, "GET", commentsURL(ticket), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
			do(t, "GET", commentsURL(ticket, cid), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
			do(t, "POST", commentsURL(ticket, cid, "redact"), k.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		}
		// A comment is found only under its own ticket.
		for _, c := range [][2]string{{id, unknownComment}, {id, "not-a-comment"}, {id, strings.ToUpper(cid)}, {other, cid}} {
			do(t, "GET", commentsURL(c[0], c[1]), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
			do(t, "POST", commentsURL(c[0], c[1], "redact"), k.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		}
		if got := do(t, "GET", commentsURL(id, cid), k.Read, nil).want(t, http.StatusOK).object(t, "comment"); got["redactedAt"] != nil {
			t.Fatalf("a redaction under another ticket redacted %v", got)
		}
	})
	t.Run("422ListQuery", func(t *testing.T) {
		for query, fields := range map[string][]string{
			"limit=5":                          {"limit"},
			"page_size=0":                      {"page_size"},
			"page_size=101":                    {"page_size"},
			"page_size=1.5":                    {"page_size"},
			"page_size=1&page_size=2":          {"page_size"},
			"sort_order=newest":                {"sort_order"},
			"public=yes":                       {"public"},
			"public=1":                         {"public"},
			"sort_by=createdAt&order=desc":     {"sort_by", "order"},
			"public=maybe&sort_order=up&x=1":   {"public", "sort_order", "x"},
			"status=open&page_size=0&public=1": {"status", "page_size", "public"},
		} {
			do(t, "GET", commentsURL(id)+"?"+query, k.Read, nil).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", fields...)
		}
	})
	t.Run("400Cursors", func(t *testing.T) {
		do(t, "GET", commentsURL(id)+"?after=garbage", k.Read, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		do(t, "GET", commentsURL(id)+"?after=", k.Read, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		res := do(t, "GET", commentsURL(id)+"?page_size=1", k.Read, nil).want(t, http.StatusOK)
		next, _ := res.object(t, "links")["next"].(string)
		u, err := url.Parse(next)
		if err != nil || u.Query().Get("after") == "" {
			t.Fatalf("no next link on the first of two pages: %s", res.raw)
		}
		after := url.QueryEscape(u.Query().Get("after"))
		// The cursor works for its own query …
		page := do(t, "GET", commentsURL(id)+"?page_size=1&after="+after, k.Read, nil).want(t, http.StatusOK)
		if got, _ := page.body["comments"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != second["id"] {
			t.Fatalf("the second page: %s", page.raw)
		}
		// … and for no other: another order, filter or ticket.
		for _, u := range []string{
			commentsURL(id) + "?sort_order=desc&after=" + after,
			commentsURL(id) + "?public=true&after=" + after,
			commentsURL(other) + "?after=" + after,
		} {
			do(t, "GET", u, k.Read, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		}
	})
	t.Run("NoRouteForOtherMethods", func(t *testing.T) {
		// Comments are never edited nor deleted, only redacted; the HTTP
		// API has no route for it, so its $default route's function
		// answers: 405 with the path's methods, or 404.
		notAllowed := func(method, u, body, allow string) {
			t.Helper()
			res := do(t, method, u, k.Write, body)
			res.wantError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
			if got := res.header.Get("Allow"); got != allow {
				t.Errorf("%s %s: Allow %q, want %q", method, u, got, allow)
			}
		}
		notAllowed("PUT", commentsURL(id, cid), `{"comment": {"body": "edited"}}`, "GET, HEAD")
		notAllowed("PATCH", commentsURL(id, cid), `{"comment": {"body": "edited"}}`, "GET, HEAD")
		notAllowed("DELETE", commentsURL(id, cid), "", "GET, HEAD")
		notAllowed("DELETE", commentsURL(id), "", "GET, HEAD, POST")
		notAllowed("GET", commentsURL(id, cid, "redact"), "", "POST")
		do(t, "POST", commentsURL(id, cid, "unredact"), k.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "GET", commentsURL(id)+"/", k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	})
}

// addCommentRaw posts body (sent as do sends it) to a ticket's
// conversation with the write key.
func addCommentRaw(t *testing.T, ticketID string, body any) *response {
	t.Helper()
	return do(t, "POST", commentsURL(ticketID), target.keys.Write, body)
}

// TestCommentIdempotency retries a comment with its Idempotency-Key: the
// retry is answered with the first answer and adds nothing, to the
// conversation nor to the ticket's version.
func TestCommentIdempotency(t *testing.T) {
	needTarget(t)
	id := createTicket(t, map[string]any{"subject": "Idempotent comments"})["id"].(string)
	key := http.Header{"Idempotency-Key": {"e2e-" + unique()}}
	body := map[string]any{"comment": map[string]any{"body": "Sent twice, stored once.", "authorId": "usr_e2e"}}
	first := doWith(t, "POST", commentsURL(id), target.keys.Write, key, body).want(t, http.StatusCreated)
	_, tag := ticketNow(t, id)
	// The same request, encoded otherwise, is still the same request.
	again := doWith(t, "POST", commentsURL(id), target.keys.Write, key, `{"comment":{"authorId":"usr_e2e","body":"Sent twice, stored once."}}`).want(t, http.StatusCreated)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) || again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("the retry was not replayed: %v %s", again.header, again.raw)
	}
	if _, now := ticketNow(t, id); now != tag {
		t.Fatalf("the replay changed the ticket's ETag from %s to %s", tag, now)
	}
	got, _ := walkComments(t, id, "")
	if len(got) != 1 || got[0]["id"] != first.object(t, "comment")["id"] {
		t.Fatalf("after a replay the conversation is %v", idsOf(got))
	}
	doWith(t, "POST", commentsURL(id), target.keys.Write, key, map[string]any{"comment": map[string]any{"body": "Another", "authorId": "usr_e2e"}}).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "Idempotency-Key")

	t.Run("SameKeyOnAnotherTicket", func(t *testing.T) {
		// The key is bound to the ticket it was used on: the same key and
		// body on another ticket is another request (docs/conversations.md).
		other := createTicket(t, map[string]any{"subject": "Idempotent comments, another ticket"})["id"].(string)
		doWith(t, "POST", commentsURL(other), target.keys.Write, key, body).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "Idempotency-Key")
		if got, _ := walkComments(t, other, ""); len(got) != 0 {
			t.Fatalf("the other ticket holds %v", idsOf(got))
		}
	})
	// A refused comment releases its key: the corrected request, sent with
	// the same key, is made.
	fresh := http.Header{"Idempotency-Key": {"e2e-" + unique()}}
	doWith(t, "POST", commentsURL(id), target.keys.Write, fresh, map[string]any{"comment": map[string]any{"body": " "}}).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment.body", "comment.authorId")
	doWith(t, "POST", commentsURL(id), target.keys.Write, fresh, map[string]any{"comment": map[string]any{"body": "Fixed", "authorId": "usr_e2e"}}).
		want(t, http.StatusCreated)
}

// TestCommentLimit fills a ticket's conversation up to its cap of 5,000
// comments by setting the ticket's count in the table (5,000 requests would
// take minutes under the emulator); the comment past it is refused.
func TestCommentLimit(t *testing.T) {
	stack := needLocal(t, "it sets the ticket's comment count in DynamoDB Local")
	id := createTicket(t, map[string]any{"subject": "A long conversation"})["id"].(string)
	_, err := stack.DynamoDB().UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: aws.String(e2e.TableName),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: dynamo.TicketKeyPrefix + id}, "sk": &types.AttributeValueMemberS{Value: "TICKET"},
		},
		UpdateExpression:          aws.String("SET comments = :n"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "4999"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	last := newComment(t, id, map[string]any{"body": "The 5,000th comment", "authorId": "usr_e2e"})
	_, tag := ticketNow(t, id)
	addComment(t, id, map[string]any{"body": "One too many", "authorId": "usr_e2e"}).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment")
	if _, now := ticketNow(t, id); now != tag {
		t.Fatalf("the refused comment changed the ticket's ETag from %s to %s", tag, now)
	}
	got, _ := walkComments(t, id, "")
	if len(got) != 1 || got[0]["id"] != last["id"] {
		t.Fatalf("the conversation is %v, want only %s", idsOf(got), last["id"])
	}
	// Redacting keeps the comment's place, and so frees none.
	do(t, "POST", commentsURL(id, last["id"].(string), "redact"), target.keys.Write, nil).want(t, http.StatusOK)
	addComment(t, id, map[string]any{"body": "Still one too many", "authorEmail": "customer@example.com"}).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment")
}
