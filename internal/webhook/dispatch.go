package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// Schedule is the wait before each retry: 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 14 h, 20 h, 24 h (about 3 days in all), each varied by up to ±10 %.
// A delivery whose attempts all fail is given up.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// Tuning of the dispatcher.
const (
	// AttemptTimeout bounds one delivery attempt.
	AttemptTimeout = 15 * time.Second
	// DisableAfter is how long an endpoint may fail every attempt before
	// its subscription is disabled.
	DisableAfter = 5 * 24 * time.Hour
	// CacheTTL is how long subscriptions are read from memory by default:
	// a deleted or disabled subscription receives nothing once it has
	// passed, and a new one may wait as long for its first event.
	CacheTTL = 30 * time.Second
	// lease is how long an attempt holds its delivery before another
	// process may pick it up.
	lease = 2 * time.Minute
	// maxResponse is how much of a response body is read; responseLog is
	// how much of it the delivery log keeps.
	maxResponse = 16 << 10
	responseLog = 1 << 10
	// dueBatch is how many due deliveries one ProcessDue pass takes.
	dueBatch = 100
	// inlineBudget bounds how long a stream batch spends starting
	// attempts: what has not started by then is handed to ProcessDue, so a
	// slow endpoint delays its shard by at most this plus one attempt.
	inlineBudget = 10 * time.Second
)

// UserAgent names the product on every delivery.
const UserAgent = "Helpdesk-Webhooks/1.0"

// Dispatcher delivers events to subscriptions. It is safe for concurrent
// use.
type Dispatcher struct {
	store   helpdesk.WebhookStore
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	workers int
	subs    *subscriptions
	// failing holds the ids of subscriptions this process has marked
	// failing since it last read them, so that a success soon after (with
	// a cached copy that does not show it) still clears the mark.
	failing sync.Map
}

// NewDispatcher returns a Dispatcher that reads and records through store
// and delivers with client (which must refuse what the SSRF guard refuses;
// see ssrf.Guard.Client), with workers concurrent attempts.
func NewDispatcher(store helpdesk.WebhookStore, client *http.Client, logger *slog.Logger, workers int) *Dispatcher {
	d := &Dispatcher{store: store, client: client, log: logger, now: time.Now, workers: max(workers, 1)}
	d.subs = &subscriptions{store: store, now: func() time.Time { return d.now() }, ttl: CacheTTL}
	return d
}

// SetCacheTTL shortens how long subscriptions are cached (the local stack
// uses zero, so a developer's new subscription works at once).
func (d *Dispatcher) SetCacheTTL(ttl time.Duration) { d.subs.ttl = min(ttl, CacheTTL) }

// SetClock replaces the clock (tests; the default is time.Now).
func (d *Dispatcher) SetClock(now func() time.Time) { d.now = now }

// job is one attempt to make.
type job struct {
	delivery *helpdesk.Delivery
	event    *helpdesk.StoredEvent
	hook     *helpdesk.Webhook
}

// HandleStream processes a batch of ticket stream records: it records the
// events and deliveries they cause, then attempts the deliveries. The
// response names (by SequenceNumber) the records whose work could not be
// recorded, for Lambda to retry; failed deliveries are retried from the
// table, never by failing the batch.
func (d *Dispatcher) HandleStream(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	var resp lambdaevents.DynamoDBEventResponse
	var stored []*helpdesk.StoredEvent
	var owners []string // the SequenceNumber of each record with events
	for _, rec := range batch.Records {
		evs, err := Produce(rec)
		if err != nil {
			// A record that cannot be decoded never will be; failing it
			// would block the shard. Say so loudly instead.
			d.log.ErrorContext(ctx, "undecodable stream record skipped", slog.String("event_id", rec.EventID), slog.String("error", err.Error()))
			continue
		}
		if len(evs) > 0 {
			stored = append(stored, evs...)
			owners = append(owners, rec.Change.SequenceNumber)
		}
	}
	if len(stored) == 0 {
		return resp, nil
	}
	failAll := func(err error) (lambdaevents.DynamoDBEventResponse, error) {
		d.log.ErrorContext(ctx, "could not record events; the records will be retried", slog.Int("records", len(owners)), slog.String("error", err.Error()))
		for _, seq := range owners {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
		return resp, nil
	}
	hooks, err := d.subs.all(ctx)
	if err != nil {
		return failAll(err)
	}
	now := d.now()
	var jobs []job
	var kept []*helpdesk.StoredEvent
	for _, ev := range stored {
		wanted := false
		for _, h := range hooks {
			if h.Wants(ev.Type) {
				wanted = true
				jobs = append(jobs, job{delivery: &helpdesk.Delivery{WebhookID: h.ID, EventID: ev.ID, Due: now.Add(lease)}, event: ev, hook: h})
			}
		}
		if wanted {
			kept = append(kept, ev)
		}
	}
	if len(jobs) == 0 {
		return resp, nil
	}
	deliveries := make([]*helpdesk.Delivery, len(jobs))
	for i, j := range jobs {
		deliveries[i] = j.delivery
	}
	fresh, err := d.store.RecordEvents(ctx, kept, deliveries)
	if err != nil {
		return failAll(err)
	}
	// A delivery already pending (a redelivered batch) is left to its own
	// schedule; only the new ones are attempted now.
	recorded := make(map[*helpdesk.Delivery]bool, len(fresh))
	for _, dl := range fresh {
		recorded[dl] = true
	}
	jobs = slices.DeleteFunc(jobs, func(j job) bool { return !recorded[j.delivery] })
	d.run(ctx, jobs, d.now().Add(inlineBudget))
	return resp, nil
}

// ProcessDue attempts the deliveries that are due, up to one batch, and
// returns how many due deliveries it found (attempted, dropped, or taken by
// another process first).
func (d *Dispatcher) ProcessDue(ctx context.Context) (int, error) {
	now := d.now()
	due, err := d.store.DueDeliveries(ctx, now, dueBatch)
	if err != nil {
		return 0, err
	}
	var jobs []job
	var dropped []helpdesk.Finished
	var failed []error
	events := map[string]*helpdesk.StoredEvent{}
	// A delivery that cannot be taken now is left due, or under the lease
	// of its claim, and taken on a later pass; the others go ahead.
	for _, dl := range due {
		j, ok, err := d.take(ctx, dl, now, events)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		if !ok {
			continue // another process has it
		}
		if reason := skipReason(j.hook, j.event); reason != "" {
			dropped = append(dropped, d.drop(dl, j.event, reason))
			continue
		}
		jobs = append(jobs, j)
	}
	d.finish(ctx, dropped)
	d.run(ctx, jobs, time.Time{})
	if len(failed) > 0 {
		return len(due), fmt.Errorf("%d of %d due deliveries must wait for a later pass: %w", len(failed), len(due), failed[0])
	}
	return len(due), nil
}

// take claims a due delivery and finds its event and subscription (either
// may be gone); ok is false when another process has claimed it first.
func (d *Dispatcher) take(ctx context.Context, dl *helpdesk.Delivery, now time.Time, events map[string]*helpdesk.StoredEvent) (j job, ok bool, err error) {
	if ok, err = d.store.ClaimDelivery(ctx, dl, now.Add(lease)); err != nil || !ok {
		return job{}, false, err
	}
	ev, seen := events[dl.EventID]
	if !seen {
		if ev, err = d.store.Event(ctx, dl.EventID); err != nil && helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			return job{}, false, err
		}
		events[dl.EventID] = ev
	}
	hook, _, err := d.subs.find(ctx, dl.WebhookID)
	if err != nil {
		return job{}, false, err
	}
	return job{delivery: dl, event: ev, hook: hook}, true, nil
}

// Drain runs ProcessDue until it finds less than a full batch due, or ctx
// ends, and returns how many due deliveries it found.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := d.ProcessDue(ctx)
		total += n
		if err != nil || n < dueBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

func skipReason(hook *helpdesk.Webhook, ev *helpdesk.StoredEvent) string {
	switch {
	case ev == nil:
		return "not attempted: the event has expired"
	case hook == nil:
		return "not attempted: the subscription was deleted"
	case !hook.Wants(ev.Type):
		return "not attempted: the subscription is disabled or no longer wants this event type"
	}
	return ""
}

// drop gives up a delivery without attempting it, saying why in the log.
func (d *Dispatcher) drop(dl *helpdesk.Delivery, ev *helpdesk.StoredEvent, reason string) helpdesk.Finished {
	a := &helpdesk.Attempt{WebhookID: dl.WebhookID, EventID: dl.EventID, Attempt: dl.Attempts, Error: reason, At: d.now()}
	if ev != nil {
		a.EventType = ev.Type
	}
	return helpdesk.Finished{Delivery: dl, Attempt: a}
}

// finish records attempts made. If that fails, the deliveries stay due
// under their leases and are attempted again, with the same webhook-ids.
func (d *Dispatcher) finish(ctx context.Context, done []helpdesk.Finished) {
	if len(done) == 0 {
		return
	}
	if err := d.store.FinishAttempts(ctx, done); err != nil {
		d.log.ErrorContext(ctx, "could not record delivery attempts; they will be attempted again", slog.Int("attempts", len(done)), slog.String("error", err.Error()))
	}
}

// run attempts jobs on the worker pool. A job not started by handOff (when
// set), or too close to ctx's deadline to finish, is made due at once for
// ProcessDue instead; if even that fails, its lease expires and ProcessDue
// takes it then.
//
// The attempts are recorded together once all are made: a few batch writes
// instead of two writes per attempt on the way.
func (d *Dispatcher) run(ctx context.Context, jobs []job, handOff time.Time) {
	queue := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []helpdesk.Finished
	for range min(d.workers, len(jobs)) {
		wg.Go(func() {
			for j := range queue {
				deadline, hasDeadline := ctx.Deadline()
				late := !handOff.IsZero() && d.now().After(handOff)
				if late || hasDeadline && time.Until(deadline) < AttemptTimeout+2*time.Second {
					d.handOff(ctx, j.delivery)
					continue
				}
				f := d.attempt(ctx, j)
				mu.Lock()
				done = append(done, f)
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	d.finish(ctx, done)
}

func (d *Dispatcher) handOff(ctx context.Context, dl *helpdesk.Delivery) {
	due := *dl
	due.Due = d.now()
	if err := d.store.ScheduleDelivery(ctx, &due); err != nil {
		d.log.WarnContext(ctx, "could not hand a delivery to the retry worker; it will be picked up when its lease expires",
			slog.String("webhook_id", dl.WebhookID), slog.String("event_id", dl.EventID), slog.String("error", err.Error()))
	}
}

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
	out := outcome{status: res.StatusCode, response: truncate(body, responseLog)}
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

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// markHealthy forgets an endpoint's failures after a success.
func (d *Dispatcher) markHealthy(ctx context.Context, hook *helpdesk.Webhook) {
	if _, marked := d.failing.LoadAndDelete(hook.ID); !marked && hook.FailingSince.IsZero() {
		return
	}
	d.update(ctx, hook.ID, func(w *helpdesk.Webhook) bool {
		changed := !w.FailingSince.IsZero()
		w.FailingSince = time.Time{}
		return changed
	})
}

// markFailing notes a failure and reports whether the endpoint has now
// failed for DisableAfter, in which case the subscription is disabled.
func (d *Dispatcher) markFailing(ctx context.Context, hook *helpdesk.Webhook, now time.Time) bool {
	if !hook.FailingSince.IsZero() && now.Sub(hook.FailingSince) < DisableAfter {
		return false
	}
	disabled := false
	d.update(ctx, hook.ID, func(w *helpdesk.Webhook) bool {
		switch {
		case w.FailingSince.IsZero():
			w.FailingSince = now
			d.failing.Store(w.ID, true)
			return true
		case now.Sub(w.FailingSince) >= DisableAfter && w.Status == helpdesk.WebhookActive:
			w.Status, disabled = helpdesk.WebhookDisabled, true
			return true
		}
		return false
	})
	return disabled
}

func (d *Dispatcher) disable(ctx context.Context, hook *helpdesk.Webhook) {
	d.update(ctx, hook.ID, func(w *helpdesk.Webhook) bool {
		changed := w.Status != helpdesk.WebhookDisabled
		w.Status = helpdesk.WebhookDisabled
		return changed
	})
}

// update changes a subscription's health fields, logging failures: the
// delivery's own record matters more than this bookkeeping.
func (d *Dispatcher) update(ctx context.Context, id string, fn func(*helpdesk.Webhook) bool) {
	now := helpdesk.Clock(d.now).Now()
	_, err := d.store.UpdateWebhook(ctx, id, func(w *helpdesk.Webhook) (bool, error) {
		if !fn(w) {
			return false, nil
		}
		w.UpdatedAt = now
		return true, nil
	})
	if err != nil && helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		d.log.ErrorContext(ctx, "could not update subscription health", slog.String("webhook_id", id), slog.String("error", err.Error()))
	}
	d.subs.invalidate()
}

// subscriptions caches the subscription list for ttl.
type subscriptions struct {
	store helpdesk.WebhookStore
	now   func() time.Time
	ttl   time.Duration

	mu      sync.Mutex
	hooks   []*helpdesk.Webhook
	fetched time.Time
}

func (s *subscriptions) all(ctx context.Context) ([]*helpdesk.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks != nil && s.now().Sub(s.fetched) < s.ttl {
		return s.hooks, nil
	}
	hooks, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	s.hooks, s.fetched = hooks, s.now()
	return hooks, nil
}

// find returns the subscription with the given id; ok is false when
// there is none.
func (s *subscriptions) find(ctx context.Context, id string) (hook *helpdesk.Webhook, ok bool, err error) {
	hooks, err := s.all(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, h := range hooks {
		if h.ID == id {
			return h, true, nil
		}
	}
	return nil, false, nil
}

func (s *subscriptions) invalidate() {
	s.mu.Lock()
	s.hooks = nil
	s.mu.Unlock()
}
