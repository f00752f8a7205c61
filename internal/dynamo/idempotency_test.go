package dynamo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// claim is a claim of key "k" for the request "fp" by the holder token.
func claim(token string) *helpdesk.IdempotencyClaim {
	return &helpdesk.IdempotencyClaim{Scope: "key_a", Key: "k", Fingerprint: "fp", Token: token}
}

func completion(c *helpdesk.IdempotencyClaim, body string) *helpdesk.Completion {
	return &helpdesk.Completion{Claim: c, Response: helpdesk.SavedResponse{Status: 201, Header: map[string]string{"Location": "/x"}, Body: []byte(body)}}
}

func mustClaim(tb testing.TB, s helpdesk.IdempotencyStore, c *helpdesk.IdempotencyClaim) *helpdesk.IdempotencyRecord {
	tb.Helper()
	held, err := s.ClaimIdempotencyKey(context.Background(), c)
	if err != nil {
		tb.Fatal(err)
	}
	return held
}

func TestIdempotencyKeys(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })

	first := claim("one")
	if held := mustClaim(t, s, first); held != nil {
		t.Fatalf("a fresh key is held: %+v", held)
	}
	t.Run("HeldWhileInProgress", func(t *testing.T) {
		held := mustClaim(t, s, claim("two"))
		if held == nil || held.Done || held.Fingerprint != "fp" {
			t.Fatalf("second claim saw %+v, want the first in progress", held)
		}
	})
	t.Run("OnlyTheHolderReleases", func(t *testing.T) {
		if err := s.ReleaseIdempotencyKey(ctx, claim("intruder")); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, s, claim("two")); held == nil {
			t.Fatal("another token's release freed the key")
		}
	})
	t.Run("CompletedWithTheCreate", func(t *testing.T) {
		tk := sampleTicket("tkt_idempotent", now)
		if err := s.CreateTicket(ctx, tk, completion(first, `{"ticket":{}}`)); err != nil {
			t.Fatal(err)
		}
		held := mustClaim(t, s, claim("two"))
		if held == nil || !held.Done || held.Response.Status != 201 || string(held.Response.Body) != `{"ticket":{}}` || held.Response.Header["Location"] != "/x" {
			t.Fatalf("after the create the key holds %+v", held)
		}
		if err := s.ReleaseIdempotencyKey(ctx, first); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, s, claim("two")); held == nil || !held.Done {
			t.Fatal("releasing a completed key dropped it")
		}
	})
	t.Run("ExpiresAfterTTL", func(t *testing.T) {
		now = now.Add(helpdesk.IdempotencyTTL + time.Second)
		if held := mustClaim(t, s, claim("three")); held != nil {
			t.Fatalf("a key past its TTL is still held: %+v", held)
		}
	})
	t.Run("LeaseRunsOut", func(t *testing.T) {
		slow := claim("slow")
		slow.Key = "lease"
		mustClaim(t, s, slow)
		now = now.Add(helpdesk.IdempotencyLease - time.Second)
		taker := claim("taker")
		taker.Key = "lease"
		if held := mustClaim(t, s, taker); held == nil {
			t.Fatal("a live claim was taken over")
		}
		now = now.Add(2 * time.Second)
		if held := mustClaim(t, s, taker); held != nil {
			t.Fatalf("a claim past its lease still holds the key: %+v", held)
		}
		// The slow request finishes late: its create must store nothing.
		err := s.CreateTicket(ctx, sampleTicket("tkt_toolate", now), completion(slow, "{}"))
		wantCode(t, err, helpdesk.CodeConflict)
		_, err = s.Ticket(ctx, "tkt_toolate")
		wantCode(t, err, helpdesk.CodeNotFound)
		if err := s.CreateTicket(ctx, sampleTicket("tkt_taker", now), completion(taker, "{}")); err != nil {
			t.Fatalf("the request that took over: %v", err)
		}
	})
	t.Run("CompletionsOfFieldsAndWebhooks", func(t *testing.T) {
		c := claim("field")
		c.Key = "field"
		mustClaim(t, s, c)
		f := &helpdesk.CustomField{ID: "cf_idem", Name: "Plan", Type: helpdesk.FieldText, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateCustomField(ctx, f, completion(c, "f")); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, s, c); held == nil || !held.Done || string(held.Response.Body) != "f" {
			t.Fatalf("custom field create left %+v", held)
		}
		c = claim("hook")
		c.Key = "hook"
		mustClaim(t, s, c)
		w := &helpdesk.Webhook{ID: "whk_idem", URL: "https://example.com/", Events: []string{"ticket.created"}, Status: helpdesk.WebhookActive, Secret: "s", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateWebhook(ctx, w, completion(c, "w")); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, s, c); held == nil || !held.Done || string(held.Response.Body) != "w" {
			t.Fatalf("webhook create left %+v", held)
		}
	})
}

// TestCompleteIdempotencyKey checks the completion written apart from
// what it answers (a bulk update's): kept deflated and replayed whole, or
// refused with nothing written when even deflated it would not fit an
// item.
func TestCompleteIdempotencyKey(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	c := claim("bulk")
	c.Key = "bulk"
	mustClaim(t, s, c)

	// Random bytes do not deflate: 400 KB of them cannot be kept.
	noise := make([]byte, 400<<10)
	_, _ = rand.Read(noise)
	if err := s.CompleteIdempotencyKey(ctx, completion(c, string(noise))); helpdesk.ErrorCode(err) != helpdesk.CodePayloadTooLarge {
		t.Fatalf("completing with %d random bytes: %v, want PAYLOAD_TOO_LARGE", len(noise), err)
	}
	other := claim("other")
	other.Key = "bulk"
	if held := mustClaim(t, s, other); held == nil || held.Done {
		t.Fatalf("after a refused completion the key holds %+v, want it still in progress", held)
	}

	// 2 MB of JSON that repeats deflates far below an item.
	body := bytes.Repeat([]byte(`{"id":"tkt_aaaaaaaaaaaaaaaaaaaaaaaa","status":200},`), 2<<20/50)
	if err := s.CompleteIdempotencyKey(ctx, completion(c, string(body))); err != nil {
		t.Fatal(err)
	}
	held := mustClaim(t, s, other)
	if held == nil || !held.Done || held.Response.Status != 201 || !bytes.Equal(held.Response.Body, body) || held.Response.Header["Location"] != "/x" {
		t.Fatalf("after completion the key holds status %d, %d bytes", held.Response.Status, len(held.Response.Body))
	}
	t.Run("RetriedCompletionIsSuccess", func(t *testing.T) {
		if err := s.CompleteIdempotencyKey(ctx, completion(c, string(body))); err != nil {
			t.Fatalf("a completion whose first attempt landed: %v", err)
		}
	})
	t.Run("LostClaim", func(t *testing.T) {
		if err := s.CompleteIdempotencyKey(ctx, completion(other, "{}")); helpdesk.ErrorCode(err) != helpdesk.CodeConflict {
			t.Fatalf("completing another's key: %v, want CONFLICT", err)
		}
	})
}
