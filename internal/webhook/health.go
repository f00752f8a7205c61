package webhook

import (
	"context"
	"log/slog"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

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
// delivery's own record matters more than this bookkeeping. It leaves
// updatedAt alone, which says when someone last edited the subscription,
// not when its deliveries last succeeded or failed.
func (d *Dispatcher) update(ctx context.Context, id string, fn func(*helpdesk.Webhook) bool) {
	_, err := d.store.UpdateWebhook(ctx, id, func(w *helpdesk.Webhook) (bool, error) { return fn(w), nil })
	if err != nil && helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		d.log.ErrorContext(ctx, "could not update subscription health", slog.String("webhook_id", id), slog.String("error", err.Error()))
	}
	d.subs.invalidate()
}
