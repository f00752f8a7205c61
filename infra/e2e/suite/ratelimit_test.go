package suite_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestRateLimit: a key with a limit of three requests a minute, through
// the real list binary, sees RateLimit-Remaining fall to 0, then a 429
// RATE_LIMITED with Retry-After as RateLimit-Reset.
func TestRateLimit(t *testing.T) {
	stack := needLocal(t, "the key with a low limit is written into the stack's table")
	const limit = 3
	key := dynamotest.AddLimitedKey(t, dynamo.New(stack.DynamoDB(), e2e.TableName, nil), helpdesk.PermRead, limit)
	// The windows are the clock's minutes: start with time to spare, so
	// that the four requests fall in one.
	if left := time.Minute - time.Duration(time.Now().Unix()%60)*time.Second; left < 10*time.Second {
		time.Sleep(left + time.Second)
	}
	header := func(r *response, name string) int {
		t.Helper()
		n, err := strconv.Atoi(r.header.Get(name))
		if err != nil {
			t.Fatalf("%s %q: %v", name, r.header.Get(name), err)
		}
		return n
	}
	for i := range limit {
		res := do(t, "GET", api("/tickets?page_size=1"), key, nil).want(t, http.StatusOK)
		if got := header(res, "RateLimit-Limit"); got != limit {
			t.Fatalf("RateLimit-Limit %d, want %d", got, limit)
		}
		if got := header(res, "RateLimit-Remaining"); got != limit-1-i {
			t.Fatalf("request %d: RateLimit-Remaining %d, want %d", i+1, got, limit-1-i)
		}
		if reset := header(res, "RateLimit-Reset"); reset < 1 || reset > 60 {
			t.Fatalf("RateLimit-Reset %d", reset)
		}
	}
	res := do(t, "GET", api("/tickets?page_size=1"), key, nil)
	res.wantError(t, http.StatusTooManyRequests, "RATE_LIMITED")
	if header(res, "Retry-After") != header(res, "RateLimit-Reset") || header(res, "RateLimit-Remaining") != 0 {
		t.Fatalf("Retry-After %q, RateLimit-Reset %q, RateLimit-Remaining %q", res.header.Get("Retry-After"), res.header.Get("RateLimit-Reset"), res.header.Get("RateLimit-Remaining"))
	}
}
