package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// withKey is a header carrying an Idempotency-Key.
func withKey(key string) http.Header { return http.Header{"Idempotency-Key": {key}} }

// ticketCount is how many tickets the table holds.
func (e *env) ticketCount() int {
	e.tb.Helper()
	n, after := 0, ""
	for {
		page, err := e.clean.ListTickets(context.Background(), helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.MaxPageSize, After: after})
		if err != nil {
			e.tb.Fatal(err)
		}
		n += len(page.Tickets)
		if after = page.Next; after == "" {
			return n
		}
	}
}

func TestIdempotentCreate(t *testing.T) {
	e, _ := newAPI(t)
	write := e.keys[helpdesk.PermWrite]
	body := `{"ticket": {"subject": "Cannot log in", "tags": ["a"]}}`

	first := e.doHeader("POST", base+"/tickets", write, withKey("order-1"), body)
	first.want(t, http.StatusCreated, "")
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a first response is marked replayed")
	}
	t.Run("RetryReplays", func(t *testing.T) {
		// The same request, spelled differently: keys reordered, spacing changed.
		again := e.doHeader("POST", base+"/tickets", write, withKey("order-1"), `{"ticket":{"tags":["a"],"subject":"Cannot log in"}}`)
		again.want(t, http.StatusCreated, "")
		if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) ||
			again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") != first.header.Get("ETag") {
			t.Fatalf("replay %d %v %s, want the first answer %v %s", again.status, again.header, again.raw, first.header, first.raw)
		}
		if n := e.ticketCount(); n != 1 {
			t.Fatalf("%d tickets after a retry, want 1", n)
		}
	})
	t.Run("OtherBody", func(t *testing.T) {
		e.doHeader("POST", base+"/tickets", write, withKey("order-1"), `{"ticket": {"subject": "Something else"}}`).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "Idempotency-Key")
	})
	t.Run("OtherRoute", func(t *testing.T) {
		admin := e.keys[helpdesk.PermAdmin]
		e.doHeader("POST", base+"/tickets", admin, withKey("shared"), body).want(t, http.StatusCreated, "")
		e.doHeader("POST", base+"/custom_fields", admin, withKey("shared"), `{"customField": {"name": "Plan", "type": "text"}}`).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "Idempotency-Key")
	})
	t.Run("KeysBelongToTheirAPIKey", func(t *testing.T) {
		res := e.doHeader("POST", base+"/tickets", e.keys[helpdesk.PermAdmin], withKey("order-1"), body)
		res.want(t, http.StatusCreated, "")
		if res.header.Get("Idempotent-Replayed") != "" || res.ticket(t)["id"] == first.ticket(t)["id"] {
			t.Fatalf("another API key's request with the same key was answered from the first: %v %s", res.header, res.raw)
		}
	})
	t.Run("FailedRequestFreesTheKey", func(t *testing.T) {
		e.doHeader("POST", base+"/tickets", write, withKey("fix-me"), `{"ticket": {"priority": "high"}}`).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.subject")
		e.doHeader("POST", base+"/tickets", write, withKey("fix-me"), `{"ticket": {"subject": "now right", "priority": "high"}}`).
			want(t, http.StatusCreated, "")
	})
	t.Run("WithoutKeyEachCreates", func(t *testing.T) {
		before := e.ticketCount()
		e.do("POST", base+"/tickets", helpdesk.PermWrite, body).want(t, http.StatusCreated, "")
		e.do("POST", base+"/tickets", helpdesk.PermWrite, body).want(t, http.StatusCreated, "")
		if n := e.ticketCount(); n != before+2 {
			t.Fatalf("%d tickets, want %d", n, before+2)
		}
	})
}

func TestIdempotencyKeyHeader(t *testing.T) {
	e, _ := newAPI(t)
	write := e.keys[helpdesk.PermWrite]
	body := `{"ticket": {"subject": "x"}}`
	for name, h := range map[string]http.Header{
		"Empty":      withKey(""),
		"TooLong":    withKey(strings.Repeat("k", 256)),
		"NonASCII":   withKey("clé"),
		"Control":    withKey("a\tb"),
		"GivenTwice": {"Idempotency-Key": {"a", "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			e.doHeader("POST", base+"/tickets", write, h, body).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest, "Idempotency-Key")
		})
	}
	t.Run("Longest", func(t *testing.T) {
		e.doHeader("POST", base+"/tickets", write, withKey(strings.Repeat("~", 255)), body).want(t, http.StatusCreated, "")
	})
	if n := e.ticketCount(); n != 1 {
		t.Fatalf("%d tickets, want only the one with a valid key", n)
	}
}

// TestConcurrentIdempotentCreates sends one request many times at once:
// exactly one ticket is made, and every answer is that ticket or "in
// progress".
func TestConcurrentIdempotentCreates(t *testing.T) {
	e, _ := newAPI(t)
	write := e.keys[helpdesk.PermWrite]
	body := `{"ticket": {"subject": "Printer on fire"}}`
	const n = 24
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = e.doHeader("POST", base+"/tickets", write, withKey("burst"), body) })
	}
	wg.Wait()
	var created []byte
	for _, res := range results {
		switch res.status {
		case http.StatusCreated:
			if created == nil {
				created = res.raw
			} else if !bytes.Equal(res.raw, created) {
				t.Fatalf("two different tickets answered: %s and %s", created, res.raw)
			}
		case http.StatusConflict:
			res.want(t, http.StatusConflict, helpdesk.CodeConflict)
		default:
			t.Fatalf("answer %d: %s", res.status, res.raw)
		}
	}
	if created == nil {
		t.Fatal("no request created the ticket")
	}
	if got := e.ticketCount(); got != 1 {
		t.Fatalf("%d tickets from %d identical requests, want 1", got, n)
	}
	again := e.doHeader("POST", base+"/tickets", write, withKey("burst"), body)
	if again.status != http.StatusCreated || !bytes.Equal(again.raw, created) {
		t.Fatalf("a retry after the burst: %d %s", again.status, again.raw)
	}
}

func TestIdempotentFieldAndWebhookCreates(t *testing.T) {
	e, _ := newAPI(t)
	admin := e.keys[helpdesk.PermAdmin]
	field := `{"customField": {"name": "Plan", "type": "dropdown", "options": ["Pro"]}}`
	first := e.doHeader("POST", base+"/custom_fields", admin, withKey("f"), field)
	first.want(t, http.StatusCreated, "")
	again := e.doHeader("POST", base+"/custom_fields", admin, withKey("f"), field)
	if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) {
		t.Fatalf("custom field retry: %d %v %s", again.status, again.header, again.raw)
	}
	// Without the key the same name is taken: the retry above made nothing.
	e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, field).want(t, http.StatusConflict, helpdesk.CodeConflict)

	hook := `{"webhook": {"url": "http://127.0.0.1:9/hooks", "events": ["ticket.created"]}}`
	first = e.doHeader("POST", base+"/webhooks", admin, withKey("w"), hook)
	first.want(t, http.StatusCreated, "")
	again = e.doHeader("POST", base+"/webhooks", admin, withKey("w"), hook)
	if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) {
		t.Fatalf("webhook retry: %d %v %s", again.status, again.header, again.raw)
	}
	list := e.do("GET", base+"/webhooks", helpdesk.PermRead, nil)
	if hooks, _ := list.body["webhooks"].([]any); len(hooks) != 1 {
		t.Fatalf("%d webhooks after a retried create, want 1: %s", len(hooks), list.raw)
	}
}
