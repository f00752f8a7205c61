package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Window is one fixed window of a key's count.
type Window struct {
	// Start is the window's first instant; End is Start plus the
	// window's length.
	Start, End time.Time
}

// Counter is the shared count of the tokens handed out for each key and
// window. internal/dynamo's Store implements it.
type Counter interface {
	// TakeTokens adds n to the count of key's window w if the count would
	// stay at most limit, and returns the count after the call: the new
	// count when it took the tokens, the count it found when it did not
	// (taken false). The first call of a window finds a count of zero.
	// An error means nothing is known of the count (the tokens may or may
	// not have been taken).
	TakeTokens(ctx context.Context, key string, w Window, n, limit int) (count int, taken bool, err error)
}

// DefaultWindow is the length of the windows of a Limiter whose Window is
// zero: limits are per minute.
const DefaultWindow = time.Minute

// DefaultBlockDivisor is the BlockDivisor of a Limiter that sets none: a
// process leases a twentieth of the limit at a time. docs/rate-limits.md
// has the measurements behind the choice.
const DefaultBlockDivisor = 20

// endgameShare divides what the counter says remains, to size the blocks
// near a window's end: each lease takes at most a quarter of what is left,
// so that the tokens other processes may hold unspent at the end stay a
// small share of the limit.
const endgameShare = 4

// maxTakes bounds the conditional writes one lease makes when it races
// other processes for the last tokens of a window; each lost race means
// another process took tokens, so the bound is seldom reached.
const maxTakes = 4

// failPause is how long a process admits a key's requests without asking
// the counter after asking failed: while DynamoDB is failing, each request
// would otherwise wait out the SDK's retries for a lease it cannot get,
// and add to the load on a struggling table.
const failPause = time.Second

// maxKeys bounds the keys a Limiter remembers; past it, the keys whose
// window has ended are forgotten.
const maxKeys = 10000

// Limiter decides whether a key's request is within its limit. Build it
// with New; it is safe for concurrent use.
type Limiter struct {
	counter Counter
	// def is the limit of a key without its own, per window.
	def int
	// window is the windows' length.
	window time.Duration
	// divisor sizes the blocks: limit/divisor tokens, at least one.
	divisor int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*keyState
}

// Options tune a Limiter; the zero value is the deployed configuration.
type Options struct {
	// Window is the windows' length; zero means DefaultWindow. Tests
	// shorten it.
	Window time.Duration
	// BlockDivisor sizes the leased blocks (the limit divided by it, at
	// least one token); zero means DefaultBlockDivisor.
	BlockDivisor int
}

// New returns a Limiter that counts on counter and allows a key without a
// limit of its own def requests per window. It panics if def is not
// positive: the configuration checks it first.
func New(counter Counter, def int, opts Options) *Limiter {
	if def <= 0 {
		panic(fmt.Sprintf("ratelimit: default limit %d is not positive", def))
	}
	l := &Limiter{counter: counter, def: def, window: opts.Window, divisor: opts.BlockDivisor, now: time.Now, keys: map[string]*keyState{}}
	if l.window <= 0 {
		l.window = DefaultWindow
	}
	if l.divisor <= 0 {
		l.divisor = DefaultBlockDivisor
	}
	return l
}

// SetClock replaces the clock (tests; the default is time.Now). Call it
// before the Limiter is used.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Default returns the limit of a key without its own.
func (l *Limiter) Default() int { return l.def }

// keyState is what a process knows of one key's current window.
type keyState struct {
	window Window
	limit  int
	// tokens are leased and not yet spent.
	tokens int
	// count is the counter's value after this process's last lease.
	count int
	// exhausted: the counter has no token left in this window, so later
	// requests are refused without asking it again.
	exhausted bool
	// lease is the lease in flight, which concurrent requests wait for
	// instead of each making their own.
	lease *lease
	// pausedUntil: the last lease failed, and until then requests are
	// admitted without asking the counter again.
	pausedUntil time.Time
}

type lease struct {
	done chan struct{}
	err  error
}

// Decision is the answer for one request.
type Decision struct {
	// Allowed reports whether the request may be served.
	Allowed bool
	// Limit is the key's limit per window.
	Limit int
	// Remaining is how many more requests this process knows the key may
	// make in the window: what the counter had left at its last lease
	// plus the tokens it holds. Other processes may have spent some of
	// it since.
	Remaining int
	// Reset is the time left until the window ends.
	Reset time.Duration
	// Err, when set, is why the counter could not be asked: the request
	// was admitted without it (fail open). The requests of the key that
	// waited for that lease, or follow within a second, are admitted
	// without asking, and without an Err, so that an outage is reported
	// once a second per key and process, not once a request.
	Err error
}

// ResetSeconds is Reset in whole seconds, rounded up and at least one: the
// value of RateLimit-Reset and, on a refusal, Retry-After.
func (d Decision) ResetSeconds() int {
	return max(1, int((d.Reset+time.Second-1)/time.Second))
}

// Allow spends one of key's requests in the current window, if one is
// left. limit is the key's own limit per window; zero means the default.
func (l *Limiter) Allow(ctx context.Context, key string, limit int) Decision {
	if limit <= 0 {
		limit = l.def
	}
	now := l.now()
	start := now.Truncate(l.window)
	w := Window{Start: start, End: start.Add(l.window)}
	d := Decision{Limit: limit, Reset: w.End.Sub(now)}

	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(key, w, limit)
	for {
		switch {
		case s.tokens > 0:
			s.tokens--
			d.Allowed, d.Remaining = true, s.remaining()
			return d
		case s.exhausted:
			return d
		case now.Before(s.pausedUntil):
			d.Allowed, d.Remaining = true, s.remaining()
			return d
		case s.lease != nil:
			ls := s.lease
			l.mu.Unlock()
			select {
			case <-ls.done:
			case <-ctx.Done():
				// The request is over anyway; nothing to count or report.
				l.mu.Lock()
				d.Allowed = true
				return d
			}
			l.mu.Lock()
			if ls.err != nil {
				// Fail open too; the request that leased reports why.
				d.Allowed, d.Remaining = true, s.remaining()
				return d
			}
			// Another request may have moved the key on to a later window
			// meanwhile; this one stays in its own.
			if cur := l.keys[key]; cur != nil && cur.window == w && cur.limit == limit {
				s = cur
			}
		default:
			ls := &lease{done: make(chan struct{})}
			s.lease = ls
			n := s.block(l.divisor)
			l.mu.Unlock()
			got, count, err := l.take(ctx, key, w, n, limit)
			l.mu.Lock()
			s.lease = nil
			ls.err = err
			close(ls.done)
			if err != nil {
				s.pausedUntil = now.Add(failPause)
				d.Allowed, d.Remaining, d.Err = true, s.remaining(), err
				return d
			}
			s.tokens += got
			s.count = count
			if got == 0 && count >= limit {
				s.exhausted = true
			}
			if got == 0 && !s.exhausted {
				// Lost every race for the last tokens: refuse this one,
				// and let the next request ask again.
				d.Remaining = s.remaining()
				return d
			}
		}
	}
}

// state returns the key's state for window w and limit, fresh when
// either changed. The caller holds l.mu.
func (l *Limiter) state(key string, w Window, limit int) *keyState {
	s := l.keys[key]
	if s != nil && s.window == w && s.limit == limit {
		return s
	}
	if s == nil && len(l.keys) >= maxKeys {
		for k, old := range l.keys {
			if old.window.End.Compare(w.Start) <= 0 && old.lease == nil {
				delete(l.keys, k)
			}
		}
	}
	s = &keyState{window: w, limit: limit}
	l.keys[key] = s
	return s
}

// remaining is what the process knows the key has left: the counter's
// remainder at the last lease, plus the tokens held.
func (s *keyState) remaining() int {
	return max(0, s.limit-s.count) + s.tokens
}

// block is how many tokens to lease: the limit over the divisor, but no
// more than a share of what the counter had left at the last lease.
func (s *keyState) block(divisor int) int {
	n := max(1, s.limit/divisor)
	if left := s.limit - s.count; left/endgameShare < n {
		n = max(1, left/endgameShare)
	}
	return n
}

// take leases up to n tokens: n if that many remain, otherwise a share of
// what the counter says remains, racing other processes for them at most
// maxTakes times. It returns how many it got and the count after.
func (l *Limiter) take(ctx context.Context, key string, w Window, n, limit int) (got, count int, err error) {
	for range maxTakes {
		var taken bool
		count, taken, err = l.counter.TakeTokens(ctx, key, w, n, limit)
		if err != nil {
			return 0, 0, err
		}
		if taken {
			return n, count, nil
		}
		left := limit - count
		if left <= 0 {
			return 0, count, nil
		}
		n = min(n, max(1, left/endgameShare))
	}
	return 0, count, nil
}
