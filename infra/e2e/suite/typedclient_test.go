package suite_test

import (
	"context"
	"net/http"
	"slices"
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

// TestTypedClient drives a ticket's whole life through the client that
// oapi-codegen generated from the document: proof that the document is
// usable by client generators, not only by validators.
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

	list, err := reader.ListTicketsWithResponse(ctx, &apiclient.ListTicketsParams{AssigneeId: &assignee, Status: new(apiclient.Pending), PageSize: new(10)})
	if err != nil || list.JSON200 == nil || len(list.JSON200.Tickets) != 1 || list.JSON200.Tickets[0].Id != id ||
		list.JSON200.Meta.HasMore || list.JSON200.Links.Next != nil {
		t.Fatalf("list: %v %s", err, list.Body)
	}

	deleted, err := writer.DeleteTicketWithResponse(ctx, id, &apiclient.DeleteTicketParams{})
	if err != nil || deleted.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %s", err, deleted.Body)
	}
	gone, err := reader.GetTicketWithResponse(ctx, id)
	if err != nil || gone.JSON404 == nil || gone.JSON404.Error.Code != apiclient.NOTFOUND {
		t.Fatalf("get after delete: %v %d %s", err, gone.StatusCode(), gone.Body)
	}
}
