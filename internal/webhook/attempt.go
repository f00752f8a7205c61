package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// UserAgent names the product on every delivery.
const UserAgent = "Helpdesk-Webhooks/1.0"

// outcome is what one attempt found.
type outcome struct {
	status     int
	err        string
	response   string
	retryAfter time.Duration
}

// attempt makes one delivery attempt and says what becomes of the
// delivery.
func (d *Dispatcher) attempt(ctx context.Context, j job) helpdesk.Finished {
	start := d.now()
	out := d.post(ctx, j.hook, j.event, start)
	a := &helpdesk.Attempt{
		WebhookID: j.hook.ID, EventID: j.event.ID, EventType: j.event.Type, Attempt: j.delivery.Attempts + 1,
		StatusCode: out.status, Duration: d.now().Sub(start), Error: out.err, Response: out.response, At: start,
	}
	ok := out.err == "" && out.status >= 200 && out.status < 300
	if !ok && a.Error == "" {
		a.Error = fmt.Sprintf("the endpoint answered %d", out.status)
	}
	var next time.Time
	switch {
	case ok:
		d.markHealthy(ctx, j.hook)
	case out.status == http.StatusGone:
		a.Error += ": subscription disabled"
		d.disable(ctx, j.hook)
	case d.markFailing(ctx, j.hook, start):
		a.Error += "; the endpoint has failed for 5 days: subscription disabled"
	case a.Attempt <= len(Schedule):
		wait := jitter(Schedule[a.Attempt-1])
		if out.retryAfter > wait {
			wait = min(out.retryAfter, Schedule[len(Schedule)-1])
		}
		next = start.Add(wait)
	default:
		a.Error += "; retries exhausted: delivery given up"
	}
	d.log.InfoContext(ctx, "webhook delivery", slog.String("webhook_id", j.hook.ID), slog.String("event_id", j.event.ID),
		slog.String("type", j.event.Type), slog.Int("attempt", a.Attempt), slog.Int("status", out.status), slog.Bool("ok", ok),
		slog.Int64("duration_ms", a.Duration.Milliseconds()))
	return helpdesk.Finished{Delivery: j.delivery, Attempt: a, Next: next}
}

// post sends one signed request and reads a bounded part of the answer.
func (d *Dispatcher) post(ctx context.Context, hook *helpdesk.Webhook, ev *helpdesk.StoredEvent, at time.Time) outcome {
	var sigs []string
	for _, secret := range hook.Secrets(at) {
		sig, err := events.Sign(secret, ev.ID, at, ev.Body)
		if err != nil {
			return outcome{err: "the subscription's secret is unusable"}
		}
		sigs = append(sigs, sig)
	}
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(ev.Body))
	if err != nil {
		return outcome{err: "the subscription's URL is unusable"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(events.HeaderID, ev.ID)
	req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(events.HeaderSignature, strings.Join(sigs, " "))
	res, err := d.client.Do(req)
	if err != nil {
		return outcome{err: describe(err)}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	out := outcome{status: res.StatusCode, response: truncate(body, ResponseLogBytes)}
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		out.retryAfter = retryAfter(res.Header.Get("Retry-After"), at)
	}
	return out
}

// describe says why a request failed, without the URL (which may hold
// credentials in its query).
func describe(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "://") {
		s = s[i+2:]
	}
	return "request failed: " + s
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
