package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// TestCursorSecretReadOnFirstPage wires the list function as deployed
// (the cursor key in a Secrets Manager secret, DynamoDB Local for the
// table) and checks that the secret is read when a page first needs the
// key rather than at start, once, and again after a failed read.
func TestCursorSecretReadOnFirstPage(t *testing.T) {
	var mu sync.Mutex
	reads, failures := 0, 1
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if failures > 0 {
			failures--
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"InternalServiceError","Message":"try again"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"ARN": "arn", "Name": "cursor", "SecretString": strings.Repeat("s", 40)})
	}))
	defer sm.Close()
	readCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return reads
	}

	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	for k, v := range map[string]string{
		"HELPDESK_TABLE": table, "HELPDESK_CURSOR_KEY": "", "HELPDESK_CURSOR_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:cursor",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamotest.Endpoint(t), "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "",
		"AWS_MAX_ATTEMPTS": "1", "HELPDESK_LOG_LEVEL": "error",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	if _, _, err := app.Load(nil, nil); err == nil || !strings.Contains(err.Error(), "KeyLoader") {
		t.Fatalf("a function that reads no secrets started with a secret to read: %v", err)
	}
	sys, _, err := app.Load(cursorsecret.Loader, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := serve.Handler(sys, httpapi.ListTickets)
	if n := readCount(); n != 0 {
		t.Fatalf("the secret was read %d times at start", n)
	}

	store := dynamo.New(dynamotest.Client(t), table, nil)
	key := dynamotest.AddKey(t, store, helpdesk.PermRead)
	for range 3 {
		tk := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
		tk.Subject = "x"
		if err := store.CreateTicket(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
	}
	list := func(query string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, httpapi.BasePath+"/tickets?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body struct{ Links struct{ Next string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.Links.Next
	}

	if code, _ := list("page_size=10"); code != http.StatusOK || readCount() != 0 {
		t.Fatalf("a page without a next link: %d, %d secret reads (it needs no key)", code, readCount())
	}
	if code, _ := list("page_size=1"); code != http.StatusInternalServerError || readCount() != 1 {
		t.Fatalf("while the secret cannot be read: %d, %d reads", code, readCount())
	}
	code, next := list("page_size=1")
	if code != http.StatusOK || next == "" || readCount() != 2 {
		t.Fatalf("once it can: %d, next %q, %d reads", code, next, readCount())
	}
	_, after, _ := strings.Cut(next, "?")
	if code, _ := list(after); code != http.StatusOK || readCount() != 2 {
		t.Fatalf("the next page: %d, %d reads; the key is read once", code, readCount())
	}
}
