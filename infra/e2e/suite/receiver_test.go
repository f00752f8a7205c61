package suite_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/openapitest"
)

// delivery is one request a receiver got, and the status it answered.
type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
	status int
}

// receiver is a webhook endpoint on 127.0.0.1 that records what it gets
// and answers answer(n) to the n-th request (from 1).
type receiver struct {
	srv    *httptest.Server
	answer func(n int) int

	mu  sync.Mutex
	got []delivery
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got) + 1
		status := r.answer(n)
		r.got = append(r.got, delivery{at: time.Now(), header: req.Header.Clone(), body: body, status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the deliveries once there are at least n, or fails after
// within.
func (r *receiver) wait(t *testing.T, n int, within time.Duration) []delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.deliveries()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries after %s, want %d", len(got), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// subscribe creates a subscription (deleted when the test ends) and
// returns its id and secret.
func subscribe(t *testing.T, url string, types ...string) (id, secret string) {
	t.Helper()
	res := do(t, "POST", api("/webhooks"), target.keys.Admin, map[string]any{"webhook": map[string]any{
		"url": url, "events": types, "description": "e2e " + unique(),
	}}).want(t, http.StatusCreated)
	hook := res.object(t, "webhook")
	id, _ = hook["id"].(string)
	secret, _ = hook["secret"].(string)
	if !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(secret, "whsec_") || hook["status"] != "active" {
		t.Fatalf("subscription %s", res.raw)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", api("/webhooks/"+id), nil)
		req.Header.Set("Authorization", "Bearer "+target.keys.Admin)
		if res, err := checked(t).Do(req); err == nil {
			res.Body.Close()
		}
	})
	return id, secret
}

// verify checks a delivery's signature with events.Verify and with the
// Standard Webhooks reference verifier, and its headers, and returns its
// event.
func verify(t *testing.T, secret string, d delivery) events.Event {
	t.Helper()
	if err := events.Verify(secret, d.header, d.body); err != nil {
		t.Fatalf("events.Verify: %v\n%s", err, d.body)
	}
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Verify(d.body, d.header); err != nil {
		t.Fatalf("Standard Webhooks reference verifier: %v", err)
	}
	var ev events.Event
	if err := json.Unmarshal(d.body, &ev); err != nil {
		t.Fatalf("delivery body: %v: %s", err, d.body)
	}
	if d.header.Get("webhook-id") != ev.ID || d.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(d.header.Get("User-Agent"), "Helpdesk-Webhooks/") {
		t.Fatalf("headers %v for event %s", d.header, ev.ID)
	}
	openapitest.CheckDelivery(t, d.header, d.body)
	return ev
}

// previous renders an event's previous values for comparison.
func previous(ev events.Event) string { return fmt.Sprint(ev.Data.Previous) }
