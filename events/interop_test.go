package events_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/acme/helpdesk/events"
)

// These tests check this package against the Standard Webhooks reference
// implementation in both directions.

func referenceWebhook(t *testing.T, secret string) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

func TestReferenceHeaderNames(t *testing.T) {
	for ours, theirs := range map[string]string{
		events.HeaderID:        standardwebhooks.HeaderWebhookID,
		events.HeaderTimestamp: standardwebhooks.HeaderWebhookTimestamp,
		events.HeaderSignature: standardwebhooks.HeaderWebhookSignature,
	} {
		if ours != theirs {
			t.Errorf("header %q, reference %q", ours, theirs)
		}
	}
}

// TestReferenceVerifiesSign: what Sign makes, the reference verifier accepts
// for the right secret and only for it.
func TestReferenceVerifiesSign(t *testing.T) {
	secret := events.NewSecret()
	body := []byte(`{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.created","data":{}}`)
	d := signed(t, secret, time.Now(), body)

	if err := referenceWebhook(t, secret).Verify(d.body, d.header); err != nil {
		t.Errorf("reference Verify(Sign) = %v", err)
	}
	if err := referenceWebhook(t, events.NewSecret()).Verify(d.body, d.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("reference Verify with another secret = %v, want no matching signature", err)
	}
	if err := referenceWebhook(t, secret).Verify(append(d.body, ' '), d.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("reference Verify of a changed body = %v, want no matching signature", err)
	}
}

// TestReferenceVerifiesRotation: during rotation the dispatcher joins the
// signatures of the old and the new secret with a space; the reference
// verifier accepts the delivery with either secret alone.
func TestReferenceVerifiesRotation(t *testing.T) {
	oldSecret, newSecret := events.NewSecret(), events.NewSecret()
	id, sent := "evt_wi4tzp6ah5vbj5z7r3ky2dz2ly", time.Now()
	body := []byte(`{"id":"evt_wi4tzp6ah5vbj5z7r3ky2dz2ly","type":"ticket.updated"}`)
	var sigs []string
	for _, s := range []string{oldSecret, newSecret} {
		sig, err := events.Sign(s, id, sent, body)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	if sigs[0] == sigs[1] {
		t.Fatal("two secrets gave the same signature")
	}
	h := http.Header{}
	h.Set(events.HeaderID, id)
	h.Set(events.HeaderTimestamp, strconv.FormatInt(sent.Unix(), 10))
	h.Set(events.HeaderSignature, strings.Join(sigs, " "))

	for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
		if err := referenceWebhook(t, s).Verify(body, h); err != nil {
			t.Errorf("reference Verify with the %s secret = %v", name, err)
		}
		if err := events.Verify(s, h, body); err != nil {
			t.Errorf("Verify with the %s secret = %v", name, err)
		}
	}
	third := events.NewSecret()
	if err := referenceWebhook(t, third).Verify(body, h); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("reference Verify with a third secret = %v, want no matching signature", err)
	}
	if err := events.Verify(third, h, body); !errors.Is(err, events.ErrSignature) {
		t.Errorf("Verify with a third secret = %v, want ErrSignature", err)
	}
}

// TestVerifyAcceptsReference: what the reference signer makes, Verify
// accepts, and rejects when it should.
func TestVerifyAcceptsReference(t *testing.T) {
	secret := events.NewSecret()
	wh := referenceWebhook(t, secret)
	id := "evt_bk4byz5zi344ede6n3hidwh6ci"
	body := []byte(`{"id":"evt_bk4byz5zi344ede6n3hidwh6ci","type":"ticket.assignment.changed"}`)
	header := func(sent time.Time) http.Header {
		sig, err := wh.Sign(id, sent, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, id)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(sent.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		return h
	}

	h := header(time.Now())
	if err := events.Verify(secret, h, body); err != nil {
		t.Errorf("Verify(reference Sign) = %v", err)
	}
	ours, err := events.Sign(secret, id, time.Unix(mustAtoi(t, h.Get(events.HeaderTimestamp)), 0), body)
	if err != nil || ours != h.Get(events.HeaderSignature) {
		t.Errorf("Sign = %q, %v; reference signed %q", ours, err, h.Get(events.HeaderSignature))
	}
	if err := events.Verify(events.NewSecret(), h, body); !errors.Is(err, events.ErrSignature) {
		t.Errorf("Verify(reference Sign) with another secret = %v, want ErrSignature", err)
	}
	if err := events.Verify(secret, h, append(body, ' ')); !errors.Is(err, events.ErrSignature) {
		t.Errorf("Verify(reference Sign) of a changed body = %v, want ErrSignature", err)
	}
	if err := events.Verify(secret, header(time.Now().Add(-6*time.Minute)), body); !errors.Is(err, events.ErrTimestamp) {
		t.Errorf("Verify(reference Sign 6 minutes ago) = %v, want ErrTimestamp", err)
	}
	// The reference agrees on the spec's own example, too.
	ref, err := referenceWebhook(t, specSecret).Sign(specID, time.Unix(specTimestamp, 0), []byte(specBody))
	if err != nil || ref != specSignature {
		t.Errorf("reference Sign of the spec example = %q, %v; want %q", ref, err, specSignature)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
