package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/infra/bench"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// The feed lag's load: a modest, steady rate of creates, and a reader
// that polls the feed as often as a client reasonably would and much more
// often than the lag it measures.
const (
	feedLagRate = 10 // creates a second
	feedLagPoll = 20 * time.Millisecond
	// feedLagWait bounds the wait, after the last write, for its event.
	feedLagWait = dynamo.FeedSettle + 30*time.Second
)

// BenchmarkFeedLag measures how long a change takes to appear in the
// change feed of the local stack (make run's code, in this process, on
// its own DynamoDB Local, its stream read every local.DefaultPollInterval
// by the same consumer the dispatch function runs). It creates tickets
// through the HTTP API, feedLagRate a second for
// HELPDESK_BENCH_LOAD_DURATION (20 s; 1 s in the smoke run), while a
// reader pages through the feed with the store's ListEvents on the real
// clock, every feedLagPoll; each ticket.created's lag is the time from its
// create's response to the start of the first read of the feed that
// returns it. It reports the p50, p99 and largest lag and the samples,
// beside the settle window (dynamo.FeedSettle), which the reader waits out
// after each event's time, and the stack's stream poll interval. There is
// no target: the issue asks for the numbers.
//
//	go test -run '^$' -bench FeedLag -benchtime 1x ./infra/bench/
func BenchmarkFeedLag(b *testing.B) {
	t := startLocal(b)
	db, err := ddblocal.NewClient(context.Background(), t.endpoint)
	if err != nil {
		b.Fatal(err)
	}
	// The reader's own cursor key: its cursors go back to no one else.
	codec, err := cursor.New(make([]byte, cursor.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(db, t.table, codec)
	d := loadDuration(b)
	var lags []float64
	for b.Loop() {
		lags = feedLags(b, t, store, d)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(bench.Median(lags), "p50-ms")
	b.ReportMetric(bench.Percentile(lags, 99), "p99-ms")
	b.ReportMetric(bench.Percentile(lags, 100), "max-ms")
	b.ReportMetric(float64(len(lags)), "samples")
	b.ReportMetric(ms(dynamo.FeedSettle), "settle-ms")
	b.ReportMetric(ms(local.DefaultPollInterval), "stream-poll-ms")
	b.ReportMetric(ms(feedLagPoll), "read-poll-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// feedLags creates tickets for d and returns each one's lag to the feed,
// in milliseconds.
func feedLags(b *testing.B, t target, store *dynamo.Store, d time.Duration) []float64 {
	b.Helper()
	var mu sync.Mutex
	answered := map[string]time.Time{} // ticket id → when its create was answered
	seen := map[string]time.Time{}     // ticket id → when its ticket.created was first read
	writing := true
	writeErr := make(chan error, 1)
	go func() {
		defer func() {
			mu.Lock()
			writing = false
			mu.Unlock()
			close(writeErr)
		}()
		tick := time.NewTicker(time.Second / feedLagRate)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			id, err := createTicket(t)
			if err != nil {
				writeErr <- err
				return
			}
			at := time.Now()
			mu.Lock()
			answered[id] = at
			mu.Unlock()
		}
	}()
	// done reports whether every ticket written has been read in the feed,
	// once the writing is over.
	done := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if writing {
			return false
		}
		for id := range answered {
			if _, ok := seen[id]; !ok {
				return false
			}
		}
		return true
	}
	q := helpdesk.EventQuery{PageSize: helpdesk.DefaultEventPageSize}
	var deadline time.Time
	for !done() {
		// A page holds what the feed held at the clock ListEvents reads
		// as it starts: the lag ends there, not when the page arrives.
		now := time.Now()
		page, err := store.ListEvents(context.Background(), q)
		if err != nil {
			b.Fatalf("ListEvents: %v", err)
		}
		mu.Lock()
		for _, e := range page.Events {
			if _, ok := seen[e.TicketID]; e.Type == events.TicketCreated && !ok {
				seen[e.TicketID] = now
			}
		}
		over := !writing
		mu.Unlock()
		q.After = page.Next
		if over && deadline.IsZero() {
			deadline = now.Add(feedLagWait)
		}
		if !deadline.IsZero() && now.After(deadline) {
			b.Fatalf("%d tickets written, %d of them in the feed %s after the last write", len(answered), len(seen), feedLagWait)
		}
		if !page.HasMore {
			time.Sleep(feedLagPoll)
		}
	}
	if err := <-writeErr; err != nil {
		b.Fatalf("create: %v", err)
	}
	lags := make([]float64, 0, len(answered))
	for id, at := range answered {
		lags = append(lags, ms(seen[id].Sub(at)))
	}
	return lags
}

// createTicket creates a ticket through the API and returns its id.
func createTicket(t target) (string, error) {
	req, err := http.NewRequest(http.MethodPost, t.api+"/tickets", strings.NewReader(`{"ticket": {"subject": "Feed lag", "priority": "high", "tags": ["billing"]}}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+t.keys.Write)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ Ticket struct{ ID string } }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated || out.Ticket.ID == "" {
		return "", fmt.Errorf("status %d, id %q: %v", res.StatusCode, out.Ticket.ID, err)
	}
	return out.Ticket.ID, nil
}
