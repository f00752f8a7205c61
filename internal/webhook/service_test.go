package webhook_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/subscription"
)

func eventList(types ...string) *[]string { return &types }

// fields returns the fields of a validation error's details.
func fields(err error) []string {
	var out []string
	for _, d := range helpdesk.ErrorDetails(err) {
		out = append(out, d.Field)
	}
	return out
}

func TestServiceCreate(t *testing.T) {
	t.Parallel()
	store, _ := dynamotest.NewStore(t)
	svc := subscription.NewService(store, &ssrf.Guard{})
	const good = "https://8.8.8.8/hook"
	created := events.TicketCreated

	rejected := []struct {
		name  string
		patch helpdesk.WebhookPatch
		field string
	}{
		{"http to loopback", helpdesk.WebhookPatch{URL: new("http://127.0.0.1/"), Events: eventList(created)}, "webhook.url"},
		{"https to loopback", helpdesk.WebhookPatch{URL: new("https://127.0.0.1/"), Events: eventList(created)}, "webhook.url"},
		{"https to localhost", helpdesk.WebhookPatch{URL: new("https://localhost/"), Events: eventList(created)}, "webhook.url"},
		{"https to the metadata service", helpdesk.WebhookPatch{URL: new("https://169.254.169.254/latest/meta-data/"), Events: eventList(created)}, "webhook.url"},
		{"odd port", helpdesk.WebhookPatch{URL: new("https://8.8.8.8:8443/hook"), Events: eventList(created)}, "webhook.url"},
		{"missing url", helpdesk.WebhookPatch{Events: eventList(created)}, "webhook.url"},
		{"empty url", helpdesk.WebhookPatch{URL: new(""), Events: eventList(created)}, "webhook.url"},
		{"missing events", helpdesk.WebhookPatch{URL: new(good)}, "webhook.events"},
		{"empty events", helpdesk.WebhookPatch{URL: new(good), Events: eventList()}, "webhook.events"},
		{"unknown event", helpdesk.WebhookPatch{URL: new(good), Events: eventList("ticket.exploded")}, "webhook.events[0]"},
		{"unknown second event", helpdesk.WebhookPatch{URL: new(good), Events: eventList(created, "ticket.exploded")}, "webhook.events[1]"},
		{"status on create", helpdesk.WebhookPatch{URL: new(good), Events: eventList(created), Status: new(helpdesk.WebhookDisabled)}, "webhook.status"},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			w, err := svc.Create(t.Context(), &tc.patch, nil, nil)
			if code := helpdesk.ErrorCode(err); code != helpdesk.CodeValidation {
				t.Fatalf("Create = %+v, %v; want %s", w, err, helpdesk.CodeValidation)
			}
			if got := fields(err); !slices.Equal(got, []string{tc.field}) {
				t.Errorf("invalid fields %v, want [%s]", got, tc.field)
			}
		})
	}

	t.Run("public IP literal", func(t *testing.T) {
		before := dynamotest.Now()
		w, err := svc.Create(t.Context(), &helpdesk.WebhookPatch{
			URL: new(good), Events: eventList(created, events.TicketDeleted, created), Description: new("ops"),
		}, nil, nil)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if !strings.HasPrefix(w.Secret, "whsec_") {
			t.Errorf("secret %q does not start with whsec_", w.Secret)
		}
		if _, err := events.ParseSecret(w.Secret); err != nil {
			t.Errorf("secret is unusable: %v", err)
		}
		if !strings.HasPrefix(w.ID, "whk_") || w.Status != helpdesk.WebhookActive || w.URL != good || w.Description != "ops" {
			t.Errorf("created %+v, want an active whk_ subscription of %s", w, good)
		}
		if want := []string{created, events.TicketDeleted}; !slices.Equal(w.Events, want) {
			t.Errorf("events %v, want %v", w.Events, want)
		}
		if w.CreatedAt.Before(before) || w.CreatedAt.After(dynamotest.Now()) {
			t.Errorf("CreatedAt %v, want about now", w.CreatedAt)
		}
		stored, err := store.Webhook(t.Context(), w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Secret != w.Secret || stored.URL != w.URL || !slices.Equal(stored.Events, w.Events) || stored.Status != w.Status {
			t.Errorf("stored %+v, want %+v", stored, w)
		}
		second, err := svc.Create(t.Context(), &helpdesk.WebhookPatch{URL: new(good), Events: eventList(created)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if second.Secret == w.Secret || second.ID == w.ID {
			t.Errorf("two subscriptions share secret or id: %+v, %+v", w, second)
		}
	})

	t.Run("rejected requests store nothing", func(t *testing.T) {
		hooks, err := store.ListWebhooks(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(hooks) != 2 {
			t.Errorf("%d subscriptions stored, want the 2 accepted", len(hooks))
		}
	})
}

func TestServiceRotateSecret(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusOK))
	svc := subscription.NewService(store, relaxed)
	ctx := t.Context()
	w, err := svc.Create(ctx, &helpdesk.WebhookPatch{URL: new(recv.URL), Events: eventList(events.TicketCreated)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := w.Secret
	before := dynamotest.Now()
	rotated, err := svc.RotateSecret(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if rotated.Secret == old || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotated secret %q, want a new whsec_ secret", rotated.Secret)
	}
	stored, err := store.Webhook(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Secret != rotated.Secret || stored.PreviousSecret != old {
		t.Fatalf("stored secrets %q, %q; want %q, %q", stored.Secret, stored.PreviousSecret, rotated.Secret, old)
	}
	expires := stored.PreviousSecretExpires
	if lo, hi := before.Add(subscription.RotationOverlap), after.Add(subscription.RotationOverlap); expires.Before(lo) || expires.After(hi) {
		t.Fatalf("the old secret expires at %v, want 24 h after the rotation (%v to %v)", expires, lo, hi)
	}

	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"right after", after, []string{rotated.Secret, old}},
		{"just before the overlap ends", expires.Add(-time.Millisecond), []string{rotated.Secret, old}},
		{"when the overlap ends", expires, []string{rotated.Secret}},
		{"a day later", after.Add(48 * time.Hour), []string{rotated.Secret}},
	} {
		t.Run("Secrets "+tc.name, func(t *testing.T) {
			if got := stored.Secrets(tc.at); !slices.Equal(got, tc.want) {
				t.Errorf("Secrets(%v) = %q, want %q", tc.at, got, tc.want)
			}
		})
	}

	dynamotest.CreateTicket(t, store, nil)
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 3)} // create, rotate, ticket

	t.Run("delivery during the overlap", func(t *testing.T) {
		d := newDispatcher(t, store, relaxed, nil)
		resp, err := d.HandleStream(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("HandleStream = %+v, %v", resp, err)
		}
		reqs := recv.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver hit %d times, want 1", len(reqs))
		}
		req := reqs[0]
		sigs := strings.Split(req.header.Get(events.HeaderSignature), " ")
		if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") {
			t.Fatalf("webhook-signature %q, want two space-separated v1 signatures", req.header.Get(events.HeaderSignature))
		}
		for name, secret := range map[string]string{"old": old, "new": rotated.Secret} {
			if err := events.Verify(secret, req.header, req.body); err != nil {
				t.Errorf("Verify with the %s secret: %v", name, err)
			}
			matches := 0
			for _, sig := range sigs {
				h := req.header.Clone()
				h.Set(events.HeaderSignature, sig)
				if events.Verify(secret, h, req.body) == nil {
					matches++
				}
			}
			if matches != 1 {
				t.Errorf("the %s secret matches %d of the signatures, want 1", name, matches)
			}
		}
		if err := events.Verify(events.NewSecret(), req.header, req.body); !errors.Is(err, events.ErrSignature) {
			t.Errorf("Verify with an unrelated secret = %v, want ErrSignature", err)
		}
	})

	t.Run("delivery after the overlap", func(t *testing.T) {
		clk := newClock()
		clk.Set(expires.Add(time.Second))
		d := newDispatcher(t, store, relaxed, clk)
		resp, err := d.HandleStream(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("HandleStream = %+v, %v", resp, err)
		}
		reqs := recv.requests()
		if len(reqs) != 2 {
			t.Fatalf("receiver hit %d times, want 2", len(reqs))
		}
		req := reqs[1]
		if n := strings.Count(req.header.Get(events.HeaderSignature), "v1,"); n != 1 {
			t.Errorf("webhook-signature %q has %d signatures, want 1", req.header.Get(events.HeaderSignature), n)
		}
		if err := events.VerifyAt(rotated.Secret, req.header, req.body, clk.Now()); err != nil {
			t.Errorf("VerifyAt with the new secret: %v", err)
		}
		if err := events.VerifyAt(old, req.header, req.body, clk.Now()); !errors.Is(err, events.ErrSignature) {
			t.Errorf("VerifyAt with the expired secret = %v, want ErrSignature", err)
		}
	})

	t.Run("unknown subscription", func(t *testing.T) {
		for _, id := range []string{"whk_" + strings.Repeat("a", 24), "nonsense"} {
			if _, err := svc.RotateSecret(ctx, id); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
				t.Errorf("RotateSecret(%q) = %v, want %s", id, err, helpdesk.CodeNotFound)
			}
		}
	})
}

func TestServiceReplay(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusOK))
	svc := subscription.NewService(store, relaxed)
	ctx := t.Context()
	w, err := svc.Create(ctx, &helpdesk.WebhookPatch{URL: new(recv.URL + "/created"), Events: eventList(events.TicketCreated)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Create(ctx, &helpdesk.WebhookPatch{URL: new(recv.URL + "/deleted"), Events: eventList(events.TicketDeleted)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dynamotest.CreateTicket(t, store, nil)
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 3)}
	d := newDispatcher(t, store, relaxed, nil)
	if resp, err := d.HandleStream(ctx, batch); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver hit %d times, want 1", len(reqs))
	}
	evID := reqs[0].header.Get(events.HeaderID)
	noneDue := func(t *testing.T) {
		t.Helper()
		if ds, err := store.DueDeliveries(ctx, time.Now().AddDate(1, 0, 0), 10); err != nil || len(ds) != 0 {
			t.Errorf("DueDeliveries = %v, %v; want none", ds, err)
		}
	}
	noneDue(t)

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, hook, event string
			code              helpdesk.Code
		}{
			{"unknown event", w.ID, "evt_" + strings.Repeat("a", 26), helpdesk.CodeNotFound},
			{"malformed event id", w.ID, "evt_1", helpdesk.CodeNotFound},
			{"unknown subscription", "whk_" + strings.Repeat("a", 24), evID, helpdesk.CodeNotFound},
			{"event the subscription does not take", other.ID, evID, helpdesk.CodeConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dl, err := svc.Replay(ctx, tc.hook, tc.event)
				if code := helpdesk.ErrorCode(err); code != tc.code {
					t.Errorf("Replay = %+v, %v; want %s", dl, err, tc.code)
				}
			})
		}
		noneDue(t)
	})

	t.Run("event the subscription takes", func(t *testing.T) {
		before := dynamotest.Now()
		dl, err := svc.Replay(ctx, w.ID, evID)
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if dl.WebhookID != w.ID || dl.EventID != evID || dl.Due.Before(before) || dl.Due.After(time.Now()) {
			t.Errorf("Replay = %+v, want %s to %s due now", dl, evID, w.ID)
		}
		due, err := store.DueDeliveries(ctx, time.Now(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 1 || due[0].EventID != evID || due[0].WebhookID != w.ID || !due[0].Due.Equal(dl.Due) {
			t.Fatalf("due now: %+v, want the replayed delivery", due)
		}
		n, err := d.Drain(ctx)
		if err != nil || n != 1 {
			t.Fatalf("Drain = %d, %v; want 1 attempt", n, err)
		}
		reqs := recv.requests()
		if len(reqs) != 2 {
			t.Fatalf("receiver hit %d times, want 2", len(reqs))
		}
		if got := reqs[1].header.Get(events.HeaderID); got != evID || string(reqs[1].body) != string(reqs[0].body) {
			t.Errorf("replay sent %s %s, want the first delivery's %s %s", got, reqs[1].body, evID, reqs[0].body)
		}
		if err := events.Verify(w.Secret, reqs[1].header, reqs[1].body); err != nil {
			t.Errorf("Verify: %v", err)
		}
		noneDue(t)
	})
}
