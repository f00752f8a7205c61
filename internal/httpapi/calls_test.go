package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/openapitest"
)

// countingDB counts the DynamoDB calls that pass through it.
type countingDB struct {
	*dynamodb.Client
	mu    sync.Mutex
	calls []string
}

func (c *countingDB) note(op string) {
	c.mu.Lock()
	c.calls = append(c.calls, op)
	c.mu.Unlock()
}

func (c *countingDB) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.note("GetItem")
	return c.Client.GetItem(ctx, in, o...)
}

func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.note("PutItem")
	return c.Client.PutItem(ctx, in, o...)
}

func (c *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.note("DeleteItem")
	return c.Client.DeleteItem(ctx, in, o...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.note("TransactWriteItems")
	return c.Client.TransactWriteItems(ctx, in, o...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.note("Query")
	return c.Client.Query(ctx, in, o...)
}

func (c *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.note("BatchGetItem")
	return c.Client.BatchGetItem(ctx, in, o...)
}

// TestCallsPerRequest counts the DynamoDB calls of each ticket route once
// the API key is cached: get 1, create 1 (2 with custom field values),
// update 2 (1 when nothing changes), delete 1, a list page 1 (a status or
// priority walk one per status or priority it reaches).
func TestCallsPerRequest(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	db := &countingDB{Client: dynamotest.Client(t)}
	sys := newSystem(t, db, table, false, slog.New(slog.DiscardHandler))
	store := sys.Store
	key := dynamotest.AddKey(t, store, helpdesk.PermAdmin)
	srv := httptest.NewServer(serve.Handler(sys))
	defer srv.Close()
	e := &env{tb: t, url: srv.URL, store: store, keys: map[helpdesk.Permission]string{helpdesk.PermAdmin: key}, client: openapitest.Client(t)}
	field := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":"Seats","type":"number"}}`).body["customField"].(map[string]any)["id"]
	for range 3 {
		e.do("POST", base+"/tickets", helpdesk.PermAdmin, `{"ticket":{"subject":"x"}}`)
	}
	db.take()

	var ticket string
	steps := []struct {
		name string
		run  func()
		want string
	}{
		{"Create", func() {
			ticket = e.do("POST", base+"/tickets", helpdesk.PermAdmin, `{"ticket":{"subject":"x"}}`).ticket(t)["id"].(string)
		}, "[PutItem]"},
		{"CreateWithCustomFields", func() {
			e.do("POST", base+"/tickets", helpdesk.PermAdmin, fmt.Sprintf(`{"ticket":{"subject":"x","customFields":[{"id":%q,"value":3}]}}`, field))
		}, "[BatchGetItem PutItem]"},
		{"Get", func() { e.do("GET", base+"/tickets/"+ticket, helpdesk.PermAdmin, nil) }, "[GetItem]"},
		{"Update", func() { e.do("PUT", base+"/tickets/"+ticket, helpdesk.PermAdmin, `{"ticket":{"status":"open"}}`) }, "[GetItem PutItem]"},
		{"NoOpUpdate", func() { e.do("PUT", base+"/tickets/"+ticket, helpdesk.PermAdmin, `{"ticket":{"status":"open"}}`) }, "[GetItem]"},
		{"ListPage", func() { e.do("GET", base+"/tickets?page_size=2", helpdesk.PermAdmin, nil) }, "[Query]"},
		// A status walk reads one status at a time, merging its four
		// priority partitions (four Queries sent at once); it moves on when
		// the page spans a status or finds it empty. Here new holds the
		// ascending page; the descending walk finds every other status
		// empty before it reaches new.
		{"ListPageByStatus", func() {
			e.do("GET", base+"/tickets?page_size=2&sort_by=status&sort_order=asc", helpdesk.PermAdmin, nil)
		}, "[Query Query Query Query]"},
		{"ListPageAcrossStatuses", func() {
			e.do("GET", base+"/tickets?page_size=2&sort_by=status&sort_order=desc", helpdesk.PermAdmin, nil)
		}, "[" + strings.TrimSpace(strings.Repeat("Query ", 20)) + "]"},
		// A status's tickets by priority read one partition per priority.
		{"ListPageStatusByPriority", func() {
			e.do("GET", base+"/tickets?page_size=2&status=new&sort_by=priority&sort_order=asc", helpdesk.PermAdmin, nil)
		}, "[Query Query]"},
		// A deletion reads the ticket, whose copy goes to the trash.
		{"Delete", func() { e.do("DELETE", base+"/tickets/"+ticket, helpdesk.PermAdmin, nil) }, "[GetItem TransactWriteItems]"},
		{"Invalid", func() { e.do("POST", base+"/tickets", helpdesk.PermAdmin, `{"ticket":{"subject":""}}`) }, "[]"},
	}
	for _, s := range steps {
		s.run()
		if got := fmt.Sprint(db.take()); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
}
