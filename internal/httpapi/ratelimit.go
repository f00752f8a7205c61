package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// limit spends one of the caller's requests, and sets the RateLimit-*
// headers that every answer after authentication carries (whatever its
// status). Beyond the limit it answers RATE_LIMITED with Retry-After,
// before the route reads anything. When the counter cannot be reached the
// request is served (fail open: API Gateway's throttling still bounds the
// stage) and a warning names the cause.
func (a *api) limit(w http.ResponseWriter, r *http.Request, caller helpdesk.Caller) error {
	if a.limiter == nil {
		return nil
	}
	d := a.limiter.Allow(r.Context(), caller.KeyID, caller.RateLimit)
	if d.Err != nil {
		logger(r).WarnContext(r.Context(), "rate limit not enforced: the counter failed, so the request is served",
			slog.String("key_id", caller.KeyID), slog.String("error", d.Err.Error()))
	}
	h := w.Header()
	reset := strconv.Itoa(d.ResetSeconds())
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", reset)
	if !d.Allowed {
		h.Set("Retry-After", reset)
		return helpdesk.Errorf(helpdesk.CodeRateLimited, "This API key has made its %d requests of this minute; retry in %s s.", d.Limit, reset)
	}
	return nil
}
