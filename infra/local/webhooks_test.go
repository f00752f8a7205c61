package local_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/openapitest"
)

// delivery is one request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
	event  events.Event
}

// receiver records deliveries and answers with the status its answer
// function gives for the n-th request (from 1).
type receiver struct {
	mu     sync.Mutex
	got    []delivery
	answer func(n int) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev events.Event
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.got = append(r.got, delivery{req.Header.Clone(), body, ev})
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader(r.answer(n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func ok(int) int { return http.StatusNoContent }

// wait polls until the receiver holds n deliveries, or fails.
func (r *receiver) wait(t *testing.T, n int, within time.Duration) []delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries after %s, want %d", len(got), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// stack is a running local stack with keys.
type stack struct {
	t    *testing.T
	api  string
	keys map[helpdesk.Permission]string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	keys := map[helpdesk.Permission]string{}
	for _, p := range helpdesk.Permissions {
		keys[p], _, _ = auth.NewKey()
	}
	base, _ := startWith(t, local.Options{DataDir: t.TempDir(), Keys: keys, Out: io.Discard, WebhookAllowPrivate: true, PollInterval: 100 * time.Millisecond})
	return &stack{t: t, api: base + "/helpdesk/api/v1", keys: keys}
}

func (s *stack) call(method, path string, perm helpdesk.Permission, body string) (int, map[string]any) {
	s.t.Helper()
	return call(s.t, method, s.api+path, s.keys[perm], body)
}

// subscribe creates a subscription and returns its id and secret.
func (s *stack) subscribe(url string, types ...string) (string, string) {
	s.t.Helper()
	evs, _ := json.Marshal(types)
	status, body := s.call("POST", "/webhooks", helpdesk.PermAdmin, fmt.Sprintf(`{"webhook":{"url":%q,"events":%s,"description":"test"}}`, url, evs))
	if status != http.StatusCreated {
		s.t.Fatalf("subscribe: %d %v", status, body)
	}
	hook := body["webhook"].(map[string]any)
	return hook["id"].(string), hook["secret"].(string)
}

// verify checks a delivery with both this package's verifier and the
// Standard Webhooks reference verifier.
func verify(t *testing.T, secret string, d delivery) {
	t.Helper()
	if err := events.Verify(secret, d.header, d.body); err != nil {
		t.Fatalf("events.Verify: %v", err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(d.body, d.header); err != nil {
		t.Fatalf("reference verifier: %v", err)
	}
	if d.header.Get("webhook-id") != d.event.ID || d.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(d.header.Get("User-Agent"), "Helpdesk-Webhooks/") {
		t.Fatalf("headers %v for event %s", d.header, d.event.ID)
	}
	openapitest.CheckDelivery(t, d.header, d.body)
}

// TestWebhooksEndToEnd subscribes local receivers through the API, changes
// tickets through the API, and checks what arrives through DynamoDB Local's
// stream and the dispatcher.
func TestWebhooksEndToEnd(t *testing.T) {
	s := startStack(t)
	all := newReceiver(t, ok)
	deletions := newReceiver(t, ok)
	_, secret := s.subscribe(all.srv.URL+"/hooks", events.Types...)
	_, deleteSecret := s.subscribe(deletions.srv.URL, events.TicketDeleted)

	_, created := s.call("POST", "/tickets", helpdesk.PermWrite, `{"ticket":{"subject":"Printer on fire","tags":["hw"]}}`)
	id := created["ticket"].(map[string]any)["id"].(string)
	s.call("PUT", "/tickets/"+id, helpdesk.PermWrite, `{"ticket":{"status":"open"}}`)
	s.call("PUT", "/tickets/"+id, helpdesk.PermWrite, `{"ticket":{"status":"open"}}`) // no-op: no event
	s.call("PUT", "/tickets/"+id, helpdesk.PermWrite, `{"ticket":{"assigneeId":"usr_tech"}}`)
	s.call("DELETE", "/tickets/"+id, helpdesk.PermWrite, "")

	// Deliveries are concurrent, so events arrive in any order.
	got := all.wait(t, 5, 10*time.Second)
	byType := map[string][]events.Event{}
	for _, d := range got {
		verify(t, secret, d)
		byType[d.event.Type] = append(byType[d.event.Type], d.event)
		if d.event.Data.Ticket.ID != id {
			t.Fatalf("event for ticket %s", d.event.Data.Ticket.ID)
		}
	}
	counts := fmt.Sprint(len(byType[events.TicketCreated]), len(byType[events.TicketUpdated]), len(byType[events.TicketAssignmentChanged]), len(byType[events.TicketDeleted]))
	if counts != "1 2 1 1" {
		t.Fatalf("created, updated, assignment.changed, deleted: %s, want 1 2 1 1", counts)
	}
	var previous []string
	for _, ev := range byType[events.TicketUpdated] {
		previous = append(previous, fmt.Sprint(ev.Data.Previous))
	}
	slices.Sort(previous)
	if strings.Join(previous, " ") != "map[assigneeId:<nil>] map[status:new]" {
		t.Fatalf("previous of the updates: %v", previous)
	}
	assigned := byType[events.TicketAssignmentChanged][0]
	if fmt.Sprint(assigned.Data.Previous) != "map[assigneeId:<nil>]" || *assigned.Data.Ticket.AssigneeID != "usr_tech" {
		t.Fatalf("assignment event %+v", assigned)
	}
	deleted := byType[events.TicketDeleted][0]
	if deleted.Data.Ticket.Status != "open" || *deleted.Data.Ticket.AssigneeID != "usr_tech" {
		t.Fatalf("deleted event carries %+v, want the last state", deleted.Data.Ticket)
	}
	time.Sleep(500 * time.Millisecond) // a stray sixth delivery (the no-op PUT) would show by now
	if n := all.count(); n != 5 {
		t.Fatalf("%d deliveries, want 5 (the no-op PUT must send nothing)", n)
	}
	only := deletions.wait(t, 1, 5*time.Second)
	verify(t, deleteSecret, only[0])
	if deletions.count() != 1 || only[0].event.Type != events.TicketDeleted || only[0].event.ID != deleted.ID {
		t.Fatalf("the deletions-only subscription got %d deliveries, first %s", deletions.count(), only[0].event.Type)
	}
}

// TestWebhookRetryAndLog: a receiver that fails its first request gets the
// same event again about 5 s later with the same webhook-id; the delivery
// log shows both attempts; replay sends it once more; a 410 disables.
func TestWebhookRetryAndLog(t *testing.T) {
	s := startStack(t)
	flaky := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hookID, secret := s.subscribe(flaky.srv.URL, events.TicketCreated)
	start := time.Now()
	s.call("POST", "/tickets", helpdesk.PermWrite, `{"ticket":{"subject":"retry me"}}`)
	got := flaky.wait(t, 2, 15*time.Second)
	if gap := time.Since(start); gap < 4*time.Second {
		t.Fatalf("the retry came after %s, before the 5 s schedule (-10%%)", gap)
	}
	for _, d := range got {
		verify(t, secret, d)
	}
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Fatal("the retry has another webhook-id")
	}
	// An attempt is logged just after its response arrives: wait for the
	// second entry.
	var status int
	var log map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, log = s.call("GET", "/webhooks/"+hookID+"/deliveries?page_size=1", helpdesk.PermRead, "")
		if status != http.StatusOK || log["meta"].(map[string]any)["hasMore"] == true || time.Now().After(deadline) {
			break
		}
	}
	entries := log["deliveries"].([]any)
	if status != http.StatusOK || len(entries) != 1 || log["meta"].(map[string]any)["hasMore"] != true {
		t.Fatalf("delivery log: %d %v", status, log)
	}
	newest := entries[0].(map[string]any)
	if newest["attempt"] != 2.0 || newest["statusCode"] != 200.0 || newest["eventId"] != got[0].event.ID {
		t.Fatalf("newest log entry %v", newest)
	}
	status, older := call(t, "GET", strings.TrimSuffix(s.api, "/helpdesk/api/v1")+log["links"].(map[string]any)["next"].(string), s.keys[helpdesk.PermRead], "")
	if first := older["deliveries"].([]any)[0].(map[string]any); status != http.StatusOK || first["attempt"] != 1.0 || first["statusCode"] != 500.0 || first["error"] == "" {
		t.Fatalf("older log page: %d %v", status, older)
	}
	if status, body := s.call("POST", "/webhooks/"+hookID+"/deliveries/"+got[0].event.ID+"/replay", helpdesk.PermAdmin, ""); status != http.StatusAccepted {
		t.Fatalf("replay: %d %v", status, body)
	}
	replayed := flaky.wait(t, 3, 5*time.Second)
	if replayed[2].header.Get("webhook-id") != got[0].event.ID {
		t.Fatal("the replay has another webhook-id")
	}

	gone := newReceiver(t, func(int) int { return http.StatusGone })
	goneID, _ := s.subscribe(gone.srv.URL, events.TicketCreated)
	s.call("POST", "/tickets", helpdesk.PermWrite, `{"ticket":{"subject":"to a dead endpoint"}}`)
	gone.wait(t, 1, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, hook := s.call("GET", "/webhooks/"+goneID, helpdesk.PermRead, "")
		if hook["webhook"].(map[string]any)["status"] == "disabled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a 410 did not disable the subscription: %v", hook)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWebhookSubscriptionsAPI(t *testing.T) {
	s := startStack(t)
	id, secret := s.subscribe("http://127.0.0.1:9/hook", events.TicketCreated)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	for _, path := range []string{"/webhooks", "/webhooks/" + id} {
		_, body := s.call("GET", path, helpdesk.PermRead, "")
		if strings.Contains(fmt.Sprint(body), "whsec_") {
			t.Fatalf("GET %s shows the secret", path)
		}
	}
	status, rotated := s.call("POST", "/webhooks/"+id+"/rotate_secret", helpdesk.PermAdmin, "")
	if newSecret := rotated["webhook"].(map[string]any)["secret"]; status != http.StatusOK || newSecret == secret || newSecret == nil {
		t.Fatalf("rotate: %d %v", status, rotated)
	}
	cases := []struct {
		name, body string
		fields     []string
	}{
		{"NoURL", `{"webhook":{"events":["ticket.created"]}}`, []string{"webhook.url"}},
		{"BadScheme", `{"webhook":{"url":"ftp://127.0.0.1/","events":["ticket.created"]}}`, []string{"webhook.url"}},
		{"NoEvents", `{"webhook":{"url":"http://127.0.0.1/","events":[]}}`, []string{"webhook.events"}},
		{"UnknownEvent", `{"webhook":{"url":"http://127.0.0.1/","events":["ticket.created","ticket.exploded"]}}`, []string{"webhook.events[1]"}},
		{"StatusOnCreate", `{"webhook":{"url":"http://127.0.0.1/","events":["ticket.created"],"status":"disabled"}}`, []string{"webhook.status"}},
		{"ReadOnly", `{"webhook":{"url":"http://127.0.0.1/","events":["ticket.created"],"secret":"whsec_x"}}`, []string{"webhook.secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := s.call("POST", "/webhooks", helpdesk.PermAdmin, tc.body)
			var fields []string
			if e, ok := body["error"].(map[string]any); ok {
				for _, d := range e["details"].([]any) {
					fields = append(fields, d.(map[string]any)["field"].(string))
				}
			}
			if status != http.StatusUnprocessableEntity || strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
	if status, _ := s.call("POST", "/webhooks", helpdesk.PermWrite, `{"webhook":{}}`); status != http.StatusForbidden {
		t.Fatalf("a write key created a webhook: %d", status)
	}
	status, updated := s.call("PUT", "/webhooks/"+id, helpdesk.PermAdmin, `{"webhook":{"status":"disabled","events":["ticket.deleted"]}}`)
	if hook := updated["webhook"].(map[string]any); status != http.StatusOK || hook["status"] != "disabled" || fmt.Sprint(hook["events"]) != "[ticket.deleted]" {
		t.Fatalf("update: %d %v", status, updated)
	}
	if status, _ := s.call("DELETE", "/webhooks/"+id, helpdesk.PermAdmin, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := s.call("GET", "/webhooks/"+id, helpdesk.PermRead, ""); status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", status)
	}
}
