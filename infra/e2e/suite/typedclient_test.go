package suite_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/apiclient"
)

// This file sorts after suite_test.go so that its ticket changes come after
// TestWebhooks (see there).

// typedClient is the client generated from the OpenAPI document, sending
// key (none when empty) through the checked transport.
func typedClient(t *testing.T, key string) *apiclient.ClientWithResponses {
	t.Helper()
	c, err := apiclient.NewClientWithResponses(target.api, apiclient.WithHTTPClient(checked(t)),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTypedClient drives a ticket's whole life, its conversation included,
// through the client that oapi-codegen generated from the document: proof
// that the document is usable by client generators, not only by
// validators.
func TestTypedClient(t *testing.T) {
	needTarget(t)
	ctx := t.Context()
	admin, writer, reader := typedClient(t, target.keys.Admin), typedClient(t, target.keys.Write), typedClient(t, target.keys.Read)

	doc, err := typedClient(t, "").GetOpenAPIDocumentWithResponse(ctx)
	if err != nil || doc.StatusCode() != http.StatusOK || doc.JSON200 == nil || doc.JSON200.Openapi != "3.1.0" {
		t.Fatalf("the document without a key: %v %v", err, doc.Status())
	}

	field, err := admin.CreateCustomFieldWithResponse(ctx, &apiclient.CreateCustomFieldParams{}, apiclient.CreateCustomFieldJSONRequestBody{
		CustomField: apiclient.CustomFieldCreate{Name: "Typed seats " + unique(), Type: apiclient.Number},
	})
	if err != nil || field.JSON201 == nil {
		t.Fatalf("create custom field: %v %s", err, field.Body)
	}
	fieldID := field.JSON201.CustomField.Id
	t.Cleanup(func() { _, _ = admin.DeleteCustomField(context.Background(), fieldID) })
	var seats apiclient.CustomFieldScalar
	if err := seats.FromCustomFieldScalar1(12); err != nil {
		t.Fatal(err)
	}

	assignee := "usr_typed-" + unique()
	created, err := writer.CreateTicketWithResponse(ctx, &apiclient.CreateTicketParams{}, apiclient.CreateTicketJSONRequestBody{
		Ticket: apiclient.TicketCreate{
			Subject: "Typed client", Priority: new(apiclient.High), Type: new(apiclient.Incident),
			AssigneeId: &assignee, RequesterEmail: new(apiclient.RequesterEmail("customer@example.com")), Tags: &apiclient.Tags{"typed"},
			CustomFields: &[]apiclient.CustomFieldValue{{Id: fieldID, Value: seats}},
		},
	})
	if err != nil || created.StatusCode() != http.StatusCreated || created.JSON201 == nil {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	tk := created.JSON201.Ticket
	id := tk.Id
	t.Cleanup(func() { _, _ = writer.DeleteTicket(context.Background(), id, &apiclient.DeleteTicketParams{}) })
	if tk.Status != apiclient.New || tk.Priority != apiclient.High || tk.RequesterName != nil || len(tk.CustomFields) != 1 {
		t.Fatalf("created %+v", tk)
	}
	if n, err := tk.CustomFields[0].Value.AsCustomFieldScalar1(); err != nil || n != 12 {
		t.Fatalf("custom field value %v, %v", n, err)
	}

	got, err := reader.GetTicketWithResponse(ctx, id)
	if err != nil || got.JSON200 == nil || got.JSON200.Ticket.Subject != "Typed client" || !got.JSON200.Ticket.CreatedAt.Equal(tk.CreatedAt) {
		t.Fatalf("get: %v %s", err, got.Body)
	}

	updated, err := writer.UpdateTicketWithResponse(ctx, id, &apiclient.UpdateTicketParams{}, apiclient.UpdateTicketJSONRequestBody{
		Ticket: apiclient.TicketUpdate{Status: new(apiclient.Pending), Tags: &apiclient.Tags{"typed", "updated"}},
	})
	if err != nil || updated.JSON200 == nil || updated.JSON200.Ticket.Status != apiclient.Pending || !slices.Equal(updated.JSON200.Ticket.Tags, []string{"typed", "updated"}) ||
		updated.JSON200.Ticket.Priority != apiclient.High {
		t.Fatalf("update: %v %s", err, updated.Body)
	}
	bad, err := writer.UpdateTicketWithResponse(ctx, id, &apiclient.UpdateTicketParams{}, apiclient.UpdateTicketJSONRequestBody{
		Ticket: apiclient.TicketUpdate{Subject: new(" ")},
	})
	if err != nil || bad.JSON422 == nil || bad.JSON422.Error.Code != apiclient.VALIDATIONERROR || bad.JSON422.Error.Details == nil ||
		(*bad.JSON422.Error.Details)[0].Field != "ticket.subject" {
		t.Fatalf("a blank subject: %v %d %s", err, bad.StatusCode(), bad.Body)
	}

	list, err := reader.ListTicketsWithResponse(ctx, &apiclient.ListTicketsParams{AssigneeId: &assignee, Status: new(apiclient.Pending), PageSize: new(apiclient.PageSize(10))})
	if err != nil || list.JSON200 == nil || len(list.JSON200.Tickets) != 1 || list.JSON200.Tickets[0].Id != id ||
		list.JSON200.Meta.HasMore || list.JSON200.Links.Next != nil {
		t.Fatalf("list: %v %s", err, list.Body)
	}

	comments := typedConversation(t, writer, reader, id, assignee)

	deleted, err := writer.DeleteTicketWithResponse(ctx, id, &apiclient.DeleteTicketParams{})
	if err != nil || deleted.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %s", err, deleted.Body)
	}
	gone, err := reader.GetTicketWithResponse(ctx, id)
	if err != nil || gone.JSON404 == nil || gone.JSON404.Error.Code != apiclient.NOTFOUND {
		t.Fatalf("get after delete: %v %d %s", err, gone.StatusCode(), gone.Body)
	}
	noConversation, err := reader.ListCommentsWithResponse(ctx, id, &apiclient.ListCommentsParams{})
	if err != nil || noConversation.JSON404 == nil || noConversation.JSON404.Error.Code != apiclient.NOTFOUND {
		t.Fatalf("list comments after delete: %v %d %s", err, noConversation.StatusCode(), noConversation.Body)
	}
	noComment, err := reader.GetCommentWithResponse(ctx, id, comments[0].Id)
	if err != nil || noComment.JSON404 == nil {
		t.Fatalf("get comment after delete: %v %d %s", err, noComment.StatusCode(), noComment.Body)
	}
}

// typedConversation holds a conversation on the pending ticket id through
// the generated client's comment operations (an agent's reply, an internal
// note, the customer's answer that reopens the ticket; pages both ways, the
// public filter, a redaction, a refusal) and returns the comments, oldest
// first.
func typedConversation(t *testing.T, writer, reader *apiclient.ClientWithResponses, id, agent string) []apiclient.Comment {
	t.Helper()
	ctx := t.Context()
	customer := apiclient.RequesterEmail("customer@example.com")
	var made []apiclient.Comment
	for _, c := range []apiclient.CommentCreate{
		{Body: "Typed reply", AuthorId: &agent},
		{Body: "Typed note", AuthorId: &agent, Public: new(false)},
		{Body: "Typed answer", AuthorEmail: &customer, AuthorName: new("Ada")},
	} {
		res, err := writer.CreateCommentWithResponse(ctx, id, &apiclient.CreateCommentParams{IdempotencyKey: new("typed-" + unique())},
			apiclient.CreateCommentJSONRequestBody{Comment: c})
		if err != nil || res.StatusCode() != http.StatusCreated || res.JSON201 == nil || res.Headers201 == nil {
			t.Fatalf("create comment: %v %d %s", err, res.StatusCode(), res.Body)
		}
		got := res.JSON201.Comment
		wantPublic := c.Public == nil || *c.Public
		if got.TicketId != id || got.Body != c.Body || got.Public != wantPublic || got.RedactedAt != nil ||
			!sameString(got.AuthorId, c.AuthorId) || !sameString((*string)(got.AuthorEmail), (*string)(c.AuthorEmail)) || !sameString(got.AuthorName, c.AuthorName) ||
			!strings.HasSuffix(res.Headers201.Location, "/tickets/"+id+"/comments/"+got.Id) {
			t.Fatalf("created %+v (Location %q) from %+v", got, res.Headers201.Location, c)
		}
		made = append(made, got)
	}
	reopened, err := reader.GetTicketWithResponse(ctx, id)
	if err != nil || reopened.JSON200 == nil || reopened.JSON200.Ticket.Status != apiclient.Open || !reopened.JSON200.Ticket.UpdatedAt.Equal(made[2].CreatedAt) {
		t.Fatalf("the ticket after the customer's answer: %v %s", err, reopened.Body)
	}

	// Newest first, two a page: the second page through the cursor of
	// links.next.
	var listed []apiclient.Comment
	params := &apiclient.ListCommentsParams{SortOrder: new(apiclient.ListCommentsParamsSortOrderDesc), PageSize: new(apiclient.PageSize(2))}
	for pages := 0; ; pages++ {
		page, err := reader.ListCommentsWithResponse(ctx, id, params)
		if err != nil || page.JSON200 == nil || pages > 2 {
			t.Fatalf("list comments: %v %s", err, page.Body)
		}
		listed = append(listed, page.JSON200.Comments...)
		if page.JSON200.Links.Next == nil {
			break
		}
		next, err := url.Parse(*page.JSON200.Links.Next)
		if err != nil || !page.JSON200.Meta.HasMore {
			t.Fatalf("next link %v, hasMore %v", page.JSON200.Links.Next, page.JSON200.Meta.HasMore)
		}
		params.After = new(next.Query().Get("after"))
	}
	if len(listed) != 3 || listed[0].Id != made[2].Id || listed[1].Id != made[1].Id || listed[2].Id != made[0].Id {
		t.Fatalf("newest first: %v", commentIDs(listed))
	}
	notes, err := reader.ListCommentsWithResponse(ctx, id, &apiclient.ListCommentsParams{Public: new(false)})
	if err != nil || notes.JSON200 == nil || len(notes.JSON200.Comments) != 1 || notes.JSON200.Comments[0].Id != made[1].Id || notes.JSON200.Meta.HasMore {
		t.Fatalf("internal notes: %v %s", err, notes.Body)
	}
	badQuery, err := reader.ListCommentsWithResponse(ctx, id, &apiclient.ListCommentsParams{PageSize: new(apiclient.PageSize(0))})
	if err != nil || badQuery.JSON422 == nil || badQuery.JSON422.Error.Details == nil || (*badQuery.JSON422.Error.Details)[0].Field != "page_size" {
		t.Fatalf("page_size=0: %v %d %s", err, badQuery.StatusCode(), badQuery.Body)
	}

	got, err := reader.GetCommentWithResponse(ctx, id, made[1].Id)
	if err != nil || got.JSON200 == nil || got.JSON200.Comment.Body != "Typed note" || got.JSON200.Comment.Public || !got.JSON200.Comment.CreatedAt.Equal(made[1].CreatedAt) {
		t.Fatalf("get comment: %v %s", err, got.Body)
	}
	redacted, err := writer.RedactCommentWithResponse(ctx, id, made[0].Id)
	if err != nil || redacted.JSON200 == nil || redacted.JSON200.Comment.Body != "" || redacted.JSON200.Comment.RedactedAt == nil ||
		redacted.JSON200.Comment.RedactedAt.Before(made[0].CreatedAt) {
		t.Fatalf("redact: %v %s", err, redacted.Body)
	}
	made[0] = redacted.JSON200.Comment

	bad, err := writer.CreateCommentWithResponse(ctx, id, &apiclient.CreateCommentParams{}, apiclient.CreateCommentJSONRequestBody{
		Comment: apiclient.CommentCreate{Body: "Two authors", AuthorId: &agent, AuthorEmail: &customer},
	})
	if err != nil || bad.JSON422 == nil || bad.JSON422.Error.Code != apiclient.VALIDATIONERROR || bad.JSON422.Error.Details == nil ||
		(*bad.JSON422.Error.Details)[0].Field != "comment.authorId" {
		t.Fatalf("two authors: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
	return made
}

func sameString(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func commentIDs(cs []apiclient.Comment) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Id)
	}
	return out
}
