package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Schedule is the wait before each retry: 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 14 h, 20 h, 24 h (about 3 days in all), each varied by up to ±10 %.
// A delivery whose attempts all fail is given up.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
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

func (d *Dispatcher) handOff(ctx context.Context, dl *helpdesk.Delivery) {
	due := *dl
	due.Due = d.now()
	if err := d.store.ScheduleDelivery(ctx, &due); err != nil {
		d.log.WarnContext(ctx, "could not hand a delivery to the retry worker; it will be picked up when its lease expires",
			slog.String("webhook_id", dl.WebhookID), slog.String("event_id", dl.EventID), slog.String("error", err.Error()))
	}
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
