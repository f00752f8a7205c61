package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/webhook"
)

// relaxed lets deliveries reach the test receivers on 127.0.0.1.
var relaxed = &ssrf.Guard{AllowPrivate: true}

// scenario is one subscription, its receiver, and a stream batch that
// creates one ticket, under an injected clock.
type scenario struct {
	store *dynamo.Store
	clock *dynamotest.Clock
	recv  *receiver
	hook  *helpdesk.Webhook
	disp  *webhook.Dispatcher
	batch lambdaevents.DynamoDBEvent
	event *helpdesk.StoredEvent // the batch's ticket.created
}

type setup struct {
	respond func(w http.ResponseWriter, hit int)
	guard   *ssrf.Guard                              // nil: relaxed
	clock   *dynamotest.Clock                        // nil: a new one
	hook    func(w *helpdesk.Webhook, now time.Time) // adjusts the subscription before it is stored
}

func newScenario(tb testing.TB, cfg setup) *scenario {
	tb.Helper()
	s := &scenario{clock: cfg.clock}
	if s.clock == nil {
		s.clock = newClock()
	}
	var table string
	s.store, table = dynamotest.NewStore(tb)
	s.recv = newReceiver(tb, cfg.respond)
	now := s.clock.Now()
	s.hook = &helpdesk.Webhook{
		ID: helpdesk.NewID("whk_"), URL: s.recv.URL + "/hooks", Events: slices.Clone(events.Types), Status: helpdesk.WebhookActive,
		Secret: events.NewSecret(), CreatedAt: now, UpdatedAt: now,
	}
	if cfg.hook != nil {
		cfg.hook(s.hook, now)
	}
	if err := s.store.CreateWebhook(tb.Context(), s.hook, nil); err != nil {
		tb.Fatal(err)
	}
	dynamotest.CreateTicket(tb, s.store, nil)
	s.batch.Records = dynamotest.ReadStream(tb, table, 2)
	evs := produce(tb, s.batch.Records[1])
	if len(evs) != 1 || evs[0].Type != events.TicketCreated {
		tb.Fatalf("the batch gave %v, want one ticket.created", evs)
	}
	s.event = evs[0]
	guard := cfg.guard
	if guard == nil {
		guard = relaxed
	}
	s.disp = newDispatcher(tb, s.store, guard, s.clock)
	return s
}

// handle feeds the batch to the dispatcher, which must record it.
func (s *scenario) handle(tb testing.TB) {
	tb.Helper()
	resp, err := s.disp.HandleStream(tb.Context(), s.batch)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		tb.Fatalf("HandleStream = %+v, %v; want no failures", resp, err)
	}
}

// processDue runs ProcessDue at the time t and returns how many deliveries
// it attempted.
func (s *scenario) processDue(tb testing.TB, t time.Time) int {
	tb.Helper()
	s.clock.Set(t)
	n, err := s.disp.ProcessDue(tb.Context())
	if err != nil {
		tb.Fatalf("ProcessDue: %v", err)
	}
	return n
}

// due returns the deliveries due at t.
func (s *scenario) due(tb testing.TB, t time.Time) []*helpdesk.Delivery {
	tb.Helper()
	ds, err := s.store.DueDeliveries(tb.Context(), t, 10)
	if err != nil {
		tb.Fatalf("DueDeliveries: %v", err)
	}
	return ds
}

// pending returns the deliveries due at any time in the next year.
func (s *scenario) pending(tb testing.TB) []*helpdesk.Delivery {
	tb.Helper()
	return s.due(tb, s.clock.Now().AddDate(1, 0, 0))
}

// onlyPending returns the one pending delivery, of the scenario's event to
// its subscription.
func (s *scenario) onlyPending(tb testing.TB) *helpdesk.Delivery {
	tb.Helper()
	ds := s.pending(tb)
	if len(ds) != 1 {
		tb.Fatalf("%d deliveries pending, want 1", len(ds))
	}
	if d := ds[0]; d.WebhookID != s.hook.ID || d.EventID != s.event.ID {
		tb.Fatalf("pending delivery of %s to %s, want %s to %s", d.EventID, d.WebhookID, s.event.ID, s.hook.ID)
	}
	return ds[0]
}

// attempts returns the subscription's delivery log, newest first.
func (s *scenario) attempts(tb testing.TB) []*helpdesk.Attempt {
	tb.Helper()
	page, err := s.store.ListAttempts(tb.Context(), s.hook.ID, 100, "")
	if err != nil {
		tb.Fatalf("ListAttempts: %v", err)
	}
	return page.Attempts
}

// stored returns the subscription as stored.
func (s *scenario) stored(tb testing.TB) *helpdesk.Webhook {
	tb.Helper()
	w, err := s.store.Webhook(tb.Context(), s.hook.ID)
	if err != nil {
		tb.Fatalf("Webhook: %v", err)
	}
	return w
}

// checkWait checks that a retry was scheduled base ±10 % after an attempt.
func checkWait(tb testing.TB, what string, got, base time.Duration) {
	tb.Helper()
	if lo, hi := base*9/10, base*11/10; got < lo || got > hi {
		tb.Errorf("%s: next attempt %v after the last, want %v ±10 %% (%v to %v)", what, got, base, lo, hi)
	}
}

func TestHandleStreamDelivers(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	all := newReceiver(t, answer(http.StatusNoContent))
	deletedOnly := newReceiver(t, answer(http.StatusOK))
	hookAll := dynamotest.Subscribe(t, store, all.URL+"/all", events.Types...)
	hookDeleted := dynamotest.Subscribe(t, store, deletedOnly.URL+"/deleted", events.TicketDeleted)
	tk := dynamotest.CreateTicket(t, store, nil)
	dynamotest.UpdateTicket(t, store, tk.ID, func(tk *helpdesk.Ticket) { tk.Status = helpdesk.StatusOpen })
	if err := store.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
		t.Fatal(err)
	}
	// The deletion writes two records: the removal and the tombstone.
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 6)}
	byType := map[string]*helpdesk.StoredEvent{}
	for _, ev := range produceAll(t, batch.Records) {
		byType[ev.Type] = ev
	}
	if len(byType) != 3 {
		t.Fatalf("the batch gives events %v, want created, updated and deleted", byType)
	}
	d := newDispatcher(t, store, relaxed, nil)

	// check checks that r got each event of types exactly once in reqs,
	// correctly signed, and returns the ids in the order received.
	check := func(t *testing.T, r *receiver, reqs []request, hook *helpdesk.Webhook, types ...string) []string {
		t.Helper()
		var ids []string
		count := map[string]int{}
		for _, req := range reqs {
			ev := decodeEvent(t, req.body)
			count[ev.Type]++
			ids = append(ids, ev.ID)
			want := byType[ev.Type]
			if want == nil {
				t.Errorf("%s got an unexpected %s", hook.URL, ev.Type)
				continue
			}
			ts := time.Unix(mustAtoi(t, req.header.Get(events.HeaderTimestamp)), 0)
			if since := time.Since(ts); since < -time.Second || since > time.Minute {
				t.Errorf("webhook-timestamp %v is not about now", ts)
			}
			checkRequest(t, req, hook.Secret, want, ts)
			if err := events.Verify(hook.Secret, req.header, req.body); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if n := strings.Count(req.header.Get(events.HeaderSignature), "v1,"); n != 1 {
				t.Errorf("webhook-signature has %d signatures, want 1", n)
			}
		}
		for _, typ := range types {
			if count[typ] != 1 {
				t.Errorf("%s got %s %d times, want once", hook.URL, typ, count[typ])
			}
		}
		if len(reqs) != len(types) {
			t.Errorf("%s got %d requests, want %d (%v)", hook.URL, len(reqs), len(types), types)
		}
		return ids
	}

	resp, err := d.HandleStream(t.Context(), batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	var firstAll, firstDeleted []string
	t.Run("subscription to every type", func(t *testing.T) {
		firstAll = check(t, all, all.requests(), hookAll, events.TicketCreated, events.TicketUpdated, events.TicketDeleted)
	})
	t.Run("subscription to ticket.deleted", func(t *testing.T) {
		firstDeleted = check(t, deletedOnly, deletedOnly.requests(), hookDeleted, events.TicketDeleted)
	})
	t.Run("successes are logged and leave nothing due", func(t *testing.T) {
		if ds, err := store.DueDeliveries(t.Context(), time.Now().AddDate(1, 0, 0), 10); err != nil || len(ds) != 0 {
			t.Errorf("DueDeliveries = %v, %v; want none", ds, err)
		}
		page, err := store.ListAttempts(t.Context(), hookAll.ID, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Attempts) != 3 {
			t.Fatalf("%d attempts logged, want 3", len(page.Attempts))
		}
		for _, a := range page.Attempts {
			if a.StatusCode != http.StatusNoContent || a.Error != "" || a.Attempt != 1 || a.EventID != byType[a.EventType].ID {
				t.Errorf("attempt %+v, want a first successful attempt answered 204", a)
			}
		}
	})

	t.Run("redelivered batch", func(t *testing.T) {
		resp, err := d.HandleStream(t.Context(), batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("HandleStream = %+v, %v", resp, err)
		}
		for _, r := range []struct {
			recv  *receiver
			hook  *helpdesk.Webhook
			first []string
		}{{all, hookAll, firstAll}, {deletedOnly, hookDeleted, firstDeleted}} {
			reqs := r.recv.requests()
			if len(reqs) < len(r.first) {
				t.Fatalf("%s got %d requests in all, want at least %d", r.hook.URL, len(reqs), len(r.first))
			}
			again := check(t, r.recv, reqs[len(r.first):], r.hook, typesOf(t, reqs[:len(r.first)])...)
			slices.Sort(again)
			want := slices.Sorted(slices.Values(r.first))
			if !slices.Equal(again, want) {
				t.Errorf("%s: redelivery ids %v, want the first delivery's %v", r.hook.URL, again, want)
			}
		}
	})
}

func typesOf(tb testing.TB, reqs []request) []string {
	tb.Helper()
	var types []string
	for _, r := range reqs {
		types = append(types, decodeEvent(tb, r.body).Type)
	}
	return types
}

func mustAtoi(tb testing.TB, s string) int64 {
	tb.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			tb.Fatalf("%q is not a decimal number", s)
		}
		n = n*10 + int64(c-'0')
	}
	if s == "" {
		tb.Fatal("empty number")
	}
	return n
}

func TestFailedDeliveryIsRetried(t *testing.T) {
	t.Parallel()

	t.Run("until it succeeds", func(t *testing.T) {
		t.Parallel()
		var status atomic.Int32
		status.Store(http.StatusInternalServerError)
		s := newScenario(t, setup{respond: func(w http.ResponseWriter, _ int) {
			w.WriteHeader(int(status.Load()))
			_, _ = io.WriteString(w, "boom")
		}})
		start := s.clock.Now()
		s.handle(t)
		if n := s.recv.hits(); n != 1 {
			t.Fatalf("receiver hit %d times, want 1", n)
		}
		checkRequest(t, s.recv.requests()[0], s.hook.Secret, s.event, start)

		due := s.due(t, start.Add(6*time.Second))
		if len(due) != 1 {
			t.Fatalf("%d deliveries due within 6 s, want 1", len(due))
		}
		first := due[0]
		if first.Attempts != 1 || first.EventID != s.event.ID || first.WebhookID != s.hook.ID {
			t.Errorf("due delivery %+v, want attempt 1 of %s to %s", first, s.event.ID, s.hook.ID)
		}
		checkWait(t, "after attempt 1", first.Due.Sub(start), webhook.Schedule[0])
		log := s.attempts(t)
		want := helpdesk.Attempt{
			WebhookID: s.hook.ID, EventID: s.event.ID, EventType: events.TicketCreated, Attempt: 1, StatusCode: 500,
			Error: "the endpoint answered 500", Response: "boom", At: start,
		}
		if len(log) != 1 {
			t.Fatalf("%d attempts logged, want 1", len(log))
		}
		if got := *log[0]; got != want {
			t.Errorf("attempt logged %+v\nwant %+v", got, want)
		}
		if got := s.stored(t).FailingSince; !got.Equal(start) {
			t.Errorf("FailingSince = %v, want the failure's time %v", got, start)
		}

		if n := s.processDue(t, first.Due.Add(-time.Millisecond)); n != 0 || s.recv.hits() != 1 {
			t.Fatalf("ProcessDue before the due time attempted %d (receiver hit %d times), want nothing", n, s.recv.hits())
		}
		if n := s.processDue(t, first.Due); n != 1 {
			t.Fatalf("ProcessDue at the due time attempted %d, want 1", n)
		}
		if n := s.recv.hits(); n != 2 {
			t.Fatalf("receiver hit %d times, want 2", n)
		}
		checkRequest(t, s.recv.requests()[1], s.hook.Secret, s.event, first.Due)
		second := s.onlyPending(t)
		if second.Attempts != 2 {
			t.Errorf("Attempts = %d after the second attempt, want 2", second.Attempts)
		}
		checkWait(t, "after attempt 2", second.Due.Sub(first.Due), webhook.Schedule[1])

		status.Store(http.StatusOK)
		if n := s.processDue(t, second.Due); n != 1 {
			t.Fatalf("ProcessDue attempted %d, want 1", n)
		}
		if n := s.recv.hits(); n != 3 {
			t.Fatalf("receiver hit %d times, want 3", n)
		}
		checkRequest(t, s.recv.requests()[2], s.hook.Secret, s.event, second.Due)
		if ds := s.pending(t); len(ds) != 0 {
			t.Errorf("after a success %d deliveries are pending, want none: %+v", len(ds), ds[0])
		}
		log = s.attempts(t)
		if len(log) != 3 {
			t.Fatalf("%d attempts logged, want 3", len(log))
		}
		if a := log[0]; a.Attempt != 3 || a.StatusCode != 200 || a.Error != "" || !a.At.Equal(second.Due) {
			t.Errorf("newest attempt %+v, want attempt 3 answered 200 at %v", a, second.Due)
		}
		if a := log[1]; a.Attempt != 2 || a.StatusCode != 500 {
			t.Errorf("second newest attempt %+v, want attempt 2 answered 500", a)
		}
		if got := s.stored(t).FailingSince; !got.IsZero() {
			t.Errorf("FailingSince = %v after a success, want zero", got)
		}
		if n := s.processDue(t, second.Due.AddDate(0, 0, 7)); n != 0 {
			t.Errorf("ProcessDue a week later attempted %d, want 0", n)
		}
	})

	t.Run("on the schedule until it gives up", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, setup{respond: answer(http.StatusInternalServerError)})
		last := s.clock.Now()
		s.handle(t)
		jittered := false
		for i, base := range webhook.Schedule {
			d := s.onlyPending(t)
			if d.Attempts != i+1 {
				t.Fatalf("after attempt %d the delivery counts %d attempts", i+1, d.Attempts)
			}
			wait := d.Due.Sub(last)
			checkWait(t, "after attempt "+itoa(i+1), wait, base)
			jittered = jittered || wait != base
			if n := s.processDue(t, d.Due); n != 1 {
				t.Fatalf("ProcessDue for attempt %d attempted %d, want 1", i+2, n)
			}
			last = d.Due
		}
		if !jittered {
			t.Error("every wait was exactly the schedule's: no jitter")
		}
		if ds := s.pending(t); len(ds) != 0 {
			t.Errorf("after %d failed attempts a delivery is still pending: %+v", len(webhook.Schedule)+1, ds[0])
		}
		reqs := s.recv.requests()
		if len(reqs) != len(webhook.Schedule)+1 {
			t.Errorf("receiver hit %d times, want %d", len(reqs), len(webhook.Schedule)+1)
		}
		for i, r := range reqs {
			if id := r.header.Get(events.HeaderID); id != s.event.ID {
				t.Errorf("request %d has webhook-id %s, want %s", i+1, id, s.event.ID)
			}
		}
		log := s.attempts(t)
		if len(log) != len(webhook.Schedule)+1 {
			t.Fatalf("%d attempts logged, want %d", len(log), len(webhook.Schedule)+1)
		}
		for i, a := range log {
			n := len(log) - i
			if a.Attempt != n || a.StatusCode != 500 {
				t.Errorf("log entry %d: attempt %d answered %d, want attempt %d answered 500", i, a.Attempt, a.StatusCode, n)
			}
		}
		if a := log[0]; !strings.HasPrefix(a.Error, "the endpoint answered 500; ") || !strings.Contains(a.Error, "given up") {
			t.Errorf("last attempt's error %q does not say the delivery was given up", a.Error)
		}
		if w := s.stored(t); w.Status != helpdesk.WebhookActive {
			t.Errorf("after %v of failures the subscription is %s, want active (DisableAfter is %v)", last.Sub(log[len(log)-1].At), w.Status, webhook.DisableAfter)
		}
	})
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
		min, max   time.Duration
	}{
		{"429 with seconds", http.StatusTooManyRequests, fixed("3600"), time.Hour, time.Hour},
		{"503 with an HTTP date", http.StatusServiceUnavailable, func(now time.Time) string { return now.Add(2 * time.Hour).Format(http.TimeFormat) }, 2 * time.Hour, 2 * time.Hour},
		{"429 sooner than the schedule", http.StatusTooManyRequests, fixed("1"), 4500 * time.Millisecond, 5500 * time.Millisecond},
		{"429 beyond the longest wait", http.StatusTooManyRequests, fixed("604800"), 24 * time.Hour, 24 * time.Hour},
		{"429 unparsable", http.StatusTooManyRequests, fixed("soon"), 4500 * time.Millisecond, 5500 * time.Millisecond},
		{"500 ignores it", http.StatusInternalServerError, fixed("3600"), 4500 * time.Millisecond, 5500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			s := newScenario(t, setup{clock: clk, respond: func(w http.ResponseWriter, _ int) {
				w.Header().Set("Retry-After", tc.retryAfter(clk.Now()))
				w.WriteHeader(tc.status)
			}})
			start := s.clock.Now()
			s.handle(t)
			d := s.onlyPending(t)
			if wait := d.Due.Sub(start); wait < tc.min || wait > tc.max {
				t.Errorf("next attempt %v after the first, want %v to %v", wait, tc.min, tc.max)
			}
			if d.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1", d.Attempts)
			}
			if log := s.attempts(t); len(log) != 1 || log[0].StatusCode != tc.status {
				t.Errorf("log %v, want one attempt answered %d", log, tc.status)
			}
		})
	}
}

func fixed(v string) func(time.Time) string { return func(time.Time) string { return v } }

func TestGoneDisablesSubscription(t *testing.T) {
	t.Parallel()
	s := newScenario(t, setup{respond: answer(http.StatusGone)})
	s.clock.Set(s.clock.Now().Add(time.Minute))
	s.handle(t)
	if w := s.stored(t); w.Status != helpdesk.WebhookDisabled || !w.UpdatedAt.Equal(s.hook.UpdatedAt) {
		t.Errorf("after 410 the subscription is %s, updated at %v; want disabled, and updatedAt %v as nobody edited it", w.Status, w.UpdatedAt, s.hook.UpdatedAt)
	}
	if ds := s.pending(t); len(ds) != 0 {
		t.Errorf("after 410 a delivery is pending: %+v", ds[0])
	}
	log := s.attempts(t)
	if len(log) != 1 || log[0].StatusCode != http.StatusGone || !strings.Contains(log[0].Error, "410") {
		t.Errorf("log %+v, want one attempt answered 410 whose error says so", log)
	}
	if n := s.processDue(t, s.clock.Now().AddDate(0, 0, 1)); n != 0 || s.recv.hits() != 1 {
		t.Errorf("a day later ProcessDue attempted %d and the receiver was hit %d times, want 0 and 1", n, s.recv.hits())
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, answer(http.StatusOK))
	s := newScenario(t, setup{respond: func(w http.ResponseWriter, _ int) {
		w.Header().Set("Location", target.URL+"/elsewhere")
		w.WriteHeader(http.StatusFound)
	}})
	start := s.clock.Now()
	s.handle(t)
	if s.recv.hits() != 1 {
		t.Errorf("subscription's receiver hit %d times, want 1", s.recv.hits())
	}
	if target.hits() != 0 {
		t.Errorf("the redirect's target was hit %d times, want never", target.hits())
	}
	log := s.attempts(t)
	if len(log) != 1 || log[0].StatusCode != http.StatusFound || log[0].Error != "the endpoint answered 302" {
		t.Errorf("log %+v, want one failed attempt answered 302", log)
	}
	d := s.onlyPending(t)
	checkWait(t, "after a 302", d.Due.Sub(start), webhook.Schedule[0])
}

func TestFailingForFiveDays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		failingFor   time.Duration
		status       int
		wantStatus   helpdesk.WebhookStatus
		wantPending  bool
		wantFailing  bool // FailingSince unchanged; else zero
		errorMention string
	}{
		{"failure after 5 days and 1 s disables", webhook.DisableAfter + time.Second, 500, helpdesk.WebhookDisabled, false, true, "5 days"},
		{"failure after 5 days less 1 s retries", webhook.DisableAfter - time.Second, 500, helpdesk.WebhookActive, true, true, "500"},
		{"success after an hour clears", time.Hour, 200, helpdesk.WebhookActive, false, false, ""},
		{"success after 5 days and 1 s clears", webhook.DisableAfter + time.Second, 200, helpdesk.WebhookActive, false, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var since time.Time
			s := newScenario(t, setup{respond: answer(tc.status), hook: func(w *helpdesk.Webhook, now time.Time) {
				since = now.Add(-tc.failingFor)
				w.FailingSince = since
			}})
			if got := s.stored(t).FailingSince; !got.Equal(since) {
				t.Fatalf("stored FailingSince = %v, want %v", got, since)
			}
			s.handle(t)
			w := s.stored(t)
			if w.Status != tc.wantStatus {
				t.Errorf("status = %s, want %s", w.Status, tc.wantStatus)
			}
			if tc.wantFailing && !w.FailingSince.Equal(since) {
				t.Errorf("FailingSince = %v, want it kept at %v", w.FailingSince, since)
			}
			if !tc.wantFailing && !w.FailingSince.IsZero() {
				t.Errorf("FailingSince = %v, want it cleared", w.FailingSince)
			}
			if pending := len(s.pending(t)) > 0; pending != tc.wantPending {
				t.Errorf("delivery pending: %v, want %v", pending, tc.wantPending)
			}
			log := s.attempts(t)
			if len(log) != 1 || log[0].StatusCode != tc.status {
				t.Fatalf("log %+v, want one attempt answered %d", log, tc.status)
			}
			if !strings.Contains(log[0].Error, tc.errorMention) || (tc.errorMention == "") != (log[0].Error == "") {
				t.Errorf("attempt error %q, want one mentioning %q", log[0].Error, tc.errorMention)
			}
		})
	}
}

func TestProcessDueDropsForGoneSubscription(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		remove func(ctx context.Context, store *dynamo.Store, id string) error
		reason string
	}{
		{"disabled", func(ctx context.Context, store *dynamo.Store, id string) error {
			_, err := store.UpdateWebhook(ctx, id, func(w *helpdesk.Webhook) (bool, error) {
				w.Status = helpdesk.WebhookDisabled
				return true, nil
			})
			return err
		}, "disabled"},
		{"deleted", func(ctx context.Context, store *dynamo.Store, id string) error {
			return store.DeleteWebhook(ctx, id)
		}, "deleted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScenario(t, setup{respond: answer(http.StatusInternalServerError)})
			s.handle(t)
			first := s.onlyPending(t)
			// A second failure, so that the dispatcher holds the
			// subscription in its cache.
			if n := s.processDue(t, first.Due); n != 1 {
				t.Fatalf("ProcessDue attempted %d, want 1", n)
			}
			second := s.onlyPending(t)
			if err := tc.remove(t.Context(), s.store, s.hook.ID); err != nil {
				t.Fatal(err)
			}
			// Past the cache's lifetime, and past the due time.
			at := first.Due.Add(webhook.CacheTTL + time.Second)
			if second.Due.After(at) {
				at = second.Due
			}
			// Found and dropped, not attempted.
			if n := s.processDue(t, at); n != 1 {
				t.Errorf("ProcessDue found %d due, want 1", n)
			}
			if n := s.recv.hits(); n != 2 {
				t.Errorf("receiver hit %d times, want 2", n)
			}
			if ds := s.pending(t); len(ds) != 0 {
				t.Errorf("the delivery is still pending: %+v", ds[0])
			}
			log := s.attempts(t)
			if len(log) != 3 {
				t.Fatalf("%d entries logged, want 3", len(log))
			}
			if a := log[0]; a.StatusCode != 0 || !strings.Contains(a.Error, "not attempted") || !strings.Contains(a.Error, tc.reason) {
				t.Errorf("newest entry %+v, want a drop that says the subscription was %s", a, tc.reason)
			}
		})
	}
}

func TestDispatchRefusesPrivateAddress(t *testing.T) {
	t.Parallel()
	s := newScenario(t, setup{
		respond: answer(http.StatusOK),
		guard:   &ssrf.Guard{},
		hook:    func(w *helpdesk.Webhook, _ time.Time) { w.URL += "?token=s3cret" },
	})
	if !strings.HasPrefix(s.hook.URL, "http://127.0.0.1:") {
		t.Fatalf("receiver URL %s is not on 127.0.0.1", s.hook.URL)
	}
	start := s.clock.Now()
	s.handle(t)
	if n := s.recv.hits(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 was hit %d times through the strict guard", n)
	}
	log := s.attempts(t)
	if len(log) != 1 {
		t.Fatalf("%d attempts logged, want 1", len(log))
	}
	a := log[0]
	if a.StatusCode != 0 || !strings.HasPrefix(a.Error, "request failed") {
		t.Errorf("attempt %+v, want no status and an error saying the request failed", a)
	}
	if strings.Contains(a.Error, "s3cret") || strings.Contains(a.Error, s.recv.URL) {
		t.Errorf("attempt error %q reveals the URL", a.Error)
	}
	d := s.onlyPending(t)
	checkWait(t, "after a refused connection", d.Due.Sub(start), webhook.Schedule[0])
}

// failingRecorder is the real store, except that RecordEvents fails.
type failingRecorder struct {
	*dynamo.Store
	calls atomic.Int32
}

func (f *failingRecorder) RecordEvents(context.Context, []*helpdesk.StoredEvent, []*helpdesk.Delivery) ([]*helpdesk.Delivery, error) {
	f.calls.Add(1)
	return nil, errors.New("injected: the table is unavailable")
}

func TestHandleStreamRecordFailure(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusOK))
	hook := dynamotest.Subscribe(t, store, recv.URL, events.Types...) // record 0: no events
	a := dynamotest.CreateTicket(t, store, nil)                       // 1: created
	key := &helpdesk.APIKey{ID: helpdesk.NewID("key_"), Name: "ci", Permission: helpdesk.PermRead, Hash: [32]byte{1}, CreatedAt: dynamotest.Now()}
	if err := store.CreateAPIKey(t.Context(), key); err != nil { // 2 and 3 (the key, its id's pointer): no events
		t.Fatal(err)
	}
	dynamotest.UpdateTicket(t, store, a.ID, func(tk *helpdesk.Ticket) { tk.AssigneeID = "usr_alice" }) // 4: updated, assignment
	dynamotest.UpdateTicket(t, store, a.ID, nil)                                                       // 5: no events
	dynamotest.CreateTicket(t, store, nil)                                                             // 6: created
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 7)}
	var want []string
	for _, i := range []int{1, 4, 6} {
		want = append(want, batch.Records[i].Change.SequenceNumber)
	}

	t.Run("every record with events is failed", func(t *testing.T) {
		f := &failingRecorder{Store: store}
		d := newDispatcher(t, f, relaxed, nil)
		resp, err := d.HandleStream(t.Context(), batch)
		if err != nil {
			t.Fatalf("HandleStream: %v", err)
		}
		var got []string
		for _, fail := range resp.BatchItemFailures {
			got = append(got, fail.ItemIdentifier)
		}
		if !slices.Equal(got, want) {
			t.Errorf("BatchItemFailures = %v, want %v", got, want)
		}
		if n := f.calls.Load(); n != 1 {
			t.Errorf("RecordEvents called %d times, want 1", n)
		}
		if n := recv.hits(); n != 0 {
			t.Errorf("receiver hit %d times, want never", n)
		}
		if ds, err := store.DueDeliveries(t.Context(), time.Now().AddDate(1, 0, 0), 10); err != nil || len(ds) != 0 {
			t.Errorf("DueDeliveries = %v, %v; want none", ds, err)
		}
		if page, err := store.ListAttempts(t.Context(), hook.ID, 10, ""); err != nil || len(page.Attempts) != 0 {
			t.Errorf("ListAttempts = %+v, %v; want none", page, err)
		}
	})

	t.Run("recorded when no subscription wants the events", func(t *testing.T) {
		// The events are the feed and the histories too: a record whose
		// events could not be recorded is failed, subscribed to or not.
		if _, err := store.UpdateWebhook(t.Context(), hook.ID, func(w *helpdesk.Webhook) (bool, error) {
			w.Events = []string{events.TicketDeleted}
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		f := &failingRecorder{Store: store}
		d := newDispatcher(t, f, relaxed, nil)
		resp, err := d.HandleStream(t.Context(), batch)
		if err != nil || len(resp.BatchItemFailures) != len(want) {
			t.Errorf("HandleStream = %+v, %v; want the %d records with events failed", resp, err, len(want))
		}
		if n := f.calls.Load(); n != 1 {
			t.Errorf("RecordEvents called %d times, want 1", n)
		}
		if n := recv.hits(); n != 0 {
			t.Errorf("receiver hit %d times, want never", n)
		}
	})
}

// A stream batch spends a bounded time starting attempts; what has not
// started by then is made due at once for ProcessDue.
func TestSlowBatchIsHandedToProcessDue(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	clk := newClock()
	start := clk.Now()
	recv := newReceiver(t, func(w http.ResponseWriter, hit int) {
		if hit == 1 {
			clk.Set(start.Add(time.Minute)) // the first attempt "takes a minute"
		}
		w.WriteHeader(http.StatusOK)
	})
	hook := dynamotest.Subscribe(t, store, recv.URL, events.TicketCreated)
	for range 3 {
		dynamotest.CreateTicket(t, store, nil)
	}
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 4)}
	client := relaxed.Client(webhook.AttemptTimeout)
	t.Cleanup(client.CloseIdleConnections)
	d := webhook.NewDispatcher(store, client, testLogger(t), 1)
	d.SetClock(clk.Now)
	if resp, err := d.HandleStream(t.Context(), batch); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	if n := recv.hits(); n != 1 {
		t.Fatalf("receiver hit %d times during the batch, want 1", n)
	}
	due, err := store.DueDeliveries(t.Context(), clk.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 {
		t.Fatalf("%d deliveries due when the batch ended, want the 2 not started", len(due))
	}
	for _, dl := range due {
		if dl.Attempts != 0 || dl.WebhookID != hook.ID {
			t.Errorf("handed-off delivery %+v, want no attempts yet", dl)
		}
	}
	if n, err := d.ProcessDue(t.Context()); err != nil || n != 2 {
		t.Fatalf("ProcessDue = %d, %v; want 2", n, err)
	}
	ids := map[string]bool{}
	for _, r := range recv.requests() {
		ids[r.header.Get(events.HeaderID)] = true
	}
	if len(ids) != 3 {
		t.Errorf("receiver got %d distinct events, want 3", len(ids))
	}
	if ds, err := store.DueDeliveries(t.Context(), clk.Now().AddDate(1, 0, 0), 10); err != nil || len(ds) != 0 {
		t.Errorf("DueDeliveries = %v, %v; want none", ds, err)
	}
}

// A subscription created after the dispatcher read the list receives
// events once the cache has expired.
func TestNewSubscriptionAfterCache(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		ttl     *time.Duration // nil: the default
		advance time.Duration
	}{
		{"SetCacheTTL zero re-reads for every batch", new(time.Duration(0)), 0},
		{"default after CacheTTL", nil, webhook.CacheTTL + time.Second},
		{"SetCacheTTL cannot lengthen it", new(time.Hour), webhook.CacheTTL + time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, table := dynamotest.NewStore(t)
			old, fresh := newReceiver(t, answer(http.StatusOK)), newReceiver(t, answer(http.StatusOK))
			dynamotest.Subscribe(t, store, old.URL, events.TicketCreated)
			dynamotest.CreateTicket(t, store, nil)
			clk := newClock()
			d := newDispatcher(t, store, relaxed, clk)
			if tc.ttl != nil {
				d.SetCacheTTL(*tc.ttl)
			}
			first := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 2)}
			if resp, err := d.HandleStream(t.Context(), first); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("HandleStream = %+v, %v", resp, err)
			}
			dynamotest.Subscribe(t, store, fresh.URL, events.TicketCreated)
			tk := dynamotest.CreateTicket(t, store, nil)
			// The stream now also holds what the dispatcher wrote.
			recs := dynamotest.ReadStreamUntil(t, table, func(recs []lambdaevents.DynamoDBEventRecord) bool {
				for _, r := range recs {
					for _, ev := range produce(t, r) {
						if ev.Type == events.TicketCreated && decodeEvent(t, ev.Body).Data.Ticket.ID == tk.ID {
							return true
						}
					}
				}
				return false
			})
			second := lambdaevents.DynamoDBEvent{Records: dynamotest.RecordsAfter(t, recs, first.Records[1].Change.SequenceNumber)}
			clk.Set(clk.Now().Add(tc.advance))
			if resp, err := d.HandleStream(t.Context(), second); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("HandleStream = %+v, %v", resp, err)
			}
			if n := fresh.hits(); n != 1 {
				t.Errorf("the new subscription got %d deliveries, want 1", n)
			}
			if n := old.hits(); n != 2 {
				t.Errorf("the old subscription got %d deliveries, want 2", n)
			}
		})
	}
}
