package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/webhook"
)

// crashReceiver counts the events it gets. While the process under test
// is down it records nothing: a delivery then would come from a dead
// process. It can hold its requests until released, to crash the
// dispatcher while a batch is in flight.
type crashReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     map[string]int
	down    atomic.Bool
	hold    atomic.Bool
	held    chan struct{} // a request is being held
	release chan struct{}
}

func newCrashReceiver(t *testing.T) *crashReceiver {
	r := &crashReceiver{got: map[string]int{}, held: make(chan struct{}, 1), release: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.hold.Load() {
			select {
			case r.held <- struct{}{}:
			default:
			}
			<-r.release
		}
		if r.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev events.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("undecodable delivery %s", body)
		}
		r.mu.Lock()
		r.got[ev.ID]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *crashReceiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

// dispatcherProcess is what the local stack runs on the table's stream:
// the stream poller feeding the stream consumer (purges, then the
// dispatcher) and the retry loop, on their own DynamoDB client, as one
// process that can crash.
type dispatcherProcess struct {
	faults  *dynamotest.Faults
	cancel  context.CancelFunc
	done    sync.WaitGroup
	crashed atomic.Bool
	dead    chan struct{} // closed when the test ends
}

// startDispatcher starts a dispatcher process on table's stream from
// checkpoint, with the dispatcher's clock now. setup, when not nil, is
// called before the process reads the stream (to add fault rules, say).
func startDispatcher(t *testing.T, table, checkpoint string, now func() time.Time, setup func(*dispatcherProcess)) *dispatcherProcess {
	t.Helper()
	// The deployed attempt timeout: a shorter one failed a starved
	// machine's slow answers (the whole suite at once on two cores), and
	// the frozen process's requests end with its context anyway.
	db, faults := dynamotest.FaultyClient(t, app.AttemptTimeout)
	streams, err := ddblocal.NewStreamsClient(t.Context(), dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sys, err := app.New(config.Config{Table: table, WebhookAllowPrivate: true, DispatchWorkers: 4}, app.Clients{DynamoDB: db}, logger)
	if err != nil {
		t.Fatal(err)
	}
	d := deliver.Dispatcher(sys)
	d.SetCacheTTL(0)
	d.SetClock(now)
	consume := deliver.StreamConsumer(sys, d)
	ctx, cancel := context.WithCancel(context.Background())
	p := &dispatcherProcess{faults: faults, cancel: cancel, dead: make(chan struct{})}
	if setup != nil {
		setup(p)
	}
	t.Cleanup(func() {
		cancel()
		close(p.dead)
		p.done.Wait()
	})
	// A crashed process runs no more code: the batch it was handling never
	// returns to the poller, which so never moves the checkpoint past it.
	handle := func(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		resp, err := consume(ctx, batch)
		if p.crashed.Load() {
			<-p.dead
		}
		return resp, err
	}
	poller := &local.Poller{DB: db, Streams: streams, Table: table, Handle: handle, Checkpoint: checkpoint, Interval: 50 * time.Millisecond, Logger: logger}
	p.done.Go(func() {
		if err := poller.Run(ctx); err != nil {
			t.Errorf("poller: %v", err)
		}
	})
	p.done.Go(func() {
		for ctx.Err() == nil {
			_, _ = d.Drain(ctx)
			time.Sleep(50 * time.Millisecond)
		}
	})
	return p
}

// eventually waits up to 30 s for done, failing the test after.
func eventually(tb testing.TB, what string, done func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 30 s", what)
		}
	}
}

// crash stops the process at once: from now on nothing it sends reaches
// the database, its context ends, and it moves no checkpoint.
func (p *dispatcherProcess) crash() {
	p.crashed.Store(true)
	p.faults.Freeze()
	p.cancel()
}

// TestDispatcherCrashMidBatch crashes the local dispatcher while a stream
// batch's deliveries are in flight, then starts it again on the same
// checkpoint: every event reaches every subscriber, and the batches before
// the crash are not sent again.
func TestDispatcherCrashMidBatch(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	clean := dynamo.New(dynamotest.Client(t), table, nil)
	checkpoint := filepath.Join(t.TempDir(), "stream.checkpoint")
	recv := newCrashReceiver(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	hook := &helpdesk.Webhook{ID: helpdesk.NewID("whk_"), URL: recv.srv.URL + "/hooks", Events: events.Types, Status: helpdesk.WebhookActive,
		Secret: events.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := clean.CreateWebhook(t.Context(), hook, nil); err != nil {
		t.Fatal(err)
	}
	createTickets := func(n int) {
		for range n {
			tk := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now().UTC().Truncate(time.Millisecond))
			tk.Subject = "Printer on fire"
			if err := clean.CreateTicket(t.Context(), tk, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := startDispatcher(t, table, checkpoint, time.Now, nil)
	createTickets(3)
	before := eventIDs(t, table, 1+3)
	eventually(t, "the first tickets' events delivered", func() bool {
		for _, id := range before {
			if recv.count(id) == 0 {
				return false
			}
		}
		return true
	})

	recv.hold.Store(true)
	createTickets(5)
	select {
	case <-recv.held:
	case <-time.After(30 * time.Second):
		t.Fatal("the second batch never reached the receiver")
	}
	first.crash()
	recv.down.Store(true)
	close(recv.release)
	time.Sleep(500 * time.Millisecond) // what the dead process still had in flight fails
	recv.hold.Store(false)
	recv.down.Store(false)

	// Deliveries the crashed process recorded are leased to it; its leases
	// have run out when the new process looks.
	later := func() time.Time { return time.Now().Add(3 * time.Minute) }
	startDispatcher(t, table, checkpoint, later, nil)
	all := eventIDs(t, table, 1+3+5)
	crashed := all[len(before):]
	eventually(t, "every event delivered after the restart", func() bool {
		for _, id := range crashed {
			if recv.count(id) == 0 {
				return false
			}
		}
		return true
	})
	for _, id := range before {
		if n := recv.count(id); n != 1 {
			t.Errorf("event %s from before the crash was delivered %d times, want once: the checkpoint was not kept", id, n)
		}
	}
	// The feed holds every event once, in the order of the changes: the
	// crashed batch's events were recorded before its deliveries began,
	// promptly, so at the times of their changes, and its delivery again
	// after the restart recorded nothing twice.
	feed, _ := dynamotest.WalkEvents(t, dynamotest.SettledReader(t, table), helpdesk.EventQuery{PageSize: 4})
	if got := dynamotest.EventIDs(feed); !slices.Equal(got, all) {
		t.Errorf("the feed holds\n%v\nwant every event once, in the stream's order\n%v", got, all)
	}
}

// TestConsumerCrashWhileRecording: the stream consumer dies between the
// two writes of a batch's events (25 of them written, the rest not) while
// tickets are being written, and starts again on its checkpoint only once
// a reader of the feed has walked past what it had written. The reader,
// on the real clock and polling all along, reads every event of the
// stream exactly once, each ticket's in the order of its changes: the
// batch delivered again keeps what was written where it was, and what the
// consumer records late goes where the reader has not been.
func TestConsumerCrashWhileRecording(t *testing.T) {
	t.Parallel()
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	svc := helpdesk.NewService(store, store)
	checkpoint := filepath.Join(t.TempDir(), "stream.checkpoint")
	ctx := t.Context()
	// Before the consumer starts, so that its first batch holds over 25
	// events: two BatchWriteItem calls.
	var tickets []string
	for range 30 {
		tk, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Printer on fire")}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk.ID)
	}

	var reading, writing sync.WaitGroup
	stopWriting := make(chan struct{})
	stopWriters := sync.OnceFunc(func() {
		close(stopWriting)
		writing.Wait()
	})
	errs := make(chan error, 2)
	writing.Go(func() {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for {
			select {
			case <-stopWriting:
				return
			case <-time.After(time.Duration(rng.IntN(20)) * time.Millisecond):
			}
			st := helpdesk.Statuses[rng.IntN(len(helpdesk.Statuses))]
			p := &helpdesk.TicketPatch{Status: &st, AssigneeID: helpdesk.Set(fmt.Sprintf("usr_%c", 'a'+rng.IntN(3)))}
			if _, err := svc.UpdateTicket(ctx, tickets[rng.IntN(len(tickets))], p, nil, helpdesk.Precondition{}); err != nil {
				errs <- err
				return
			}
		}
	})
	walker := &dynamotest.EventWalker{Store: store, Query: helpdesk.EventQuery{PageSize: 10}}
	var read atomic.Int64         // how many events the walker has read
	var settledAfter atomic.Int64 // Unix ns after which nothing more is recorded; 0 until then
	reading.Go(func() {
		for ; ; time.Sleep(50 * time.Millisecond) {
			started := time.Now()
			n, err := walker.Walk(ctx)
			if err != nil {
				errs <- err
				return
			}
			read.Add(int64(n))
			if done := settledAfter.Load(); done != 0 && started.UnixNano() > done+int64(dynamo.FeedSettle) {
				return
			}
		}
	})
	defer func() {
		settledAfter.CompareAndSwap(0, 1) // let the reader end if the test fails early
		stopWriters()
		reading.Wait()
	}()
	// waitFor is eventually, failing at once when a writer or the reader
	// fails.
	waitFor := func(what string, done func() bool) {
		t.Helper()
		eventually(t, what, func() bool {
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			return done()
		})
	}

	crashed := make(chan struct{})
	startDispatcher(t, table, checkpoint, time.Now, func(p *dispatcherProcess) {
		p.faults.Add(
			dynamotest.Rule{Op: "BatchWriteItem", Times: 1, Before: func() {}}, // the first 25 events land
			dynamotest.Rule{Op: "BatchWriteItem", Times: 1, Before: func() {
				p.crash()
				close(crashed)
			}},
		)
	})
	waitFor("the consumer's crash", func() bool {
		select {
		case <-crashed:
			return true
		default:
			return false
		}
	})
	waitFor("the reader past what the crashed consumer wrote", func() bool { return read.Load() >= 25 })
	if n := read.Load(); n != 25 {
		t.Fatalf("the reader read %d events while the consumer was down, want the 25 it wrote", n)
	}
	startDispatcher(t, table, checkpoint, time.Now, nil)
	time.Sleep(time.Second) // the writers go on a little beside the restarted consumer
	stopWriters()

	// Every change's events, from the stream: one ticket record per
	// version of each ticket.
	records := 0
	for _, id := range tickets {
		tk, err := store.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		records += int(tk.Version)
	}
	var want []string
	for _, rec := range dynamotest.ReadStreamUntil(t, table, func(recs []lambdaevents.DynamoDBEventRecord) bool {
		n := 0
		for _, r := range recs {
			if dynamo.IsTicketKey(r.Change.Keys) {
				n++
			}
		}
		return n >= records
	}) {
		evs, err := webhook.Produce(rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, dynamotest.EventIDs(evs)...)
	}
	pending := want
	waitFor("every event recorded", func() bool {
		for len(pending) > 0 {
			if _, err := store.Event(ctx, pending[0]); err != nil {
				return false
			}
			pending = pending[1:]
		}
		return true
	})
	settledAfter.Store(time.Now().UnixNano())
	reading.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	t.Logf("%d events; the reader read them in %d pages", len(want), walker.Pages)
	if err := dynamotest.CheckEventsOnce(walker.Events, want); err != nil {
		t.Fatal(err)
	}
	if err := dynamotest.CheckTicketOrder(walker.Events); err != nil {
		t.Error(err)
	}
	updatedAt := map[string]string{}
	for _, e := range walker.Events {
		tk := dynamotest.EventBody(t, e).Data.Ticket
		if tk.UpdatedAt < updatedAt[tk.ID] {
			t.Errorf("%s %s shows the ticket updated at %s, after an event that showed %s", e.Type, e.ID, tk.UpdatedAt, updatedAt[tk.ID])
		}
		updatedAt[tk.ID] = tk.UpdatedAt
	}
}

// eventIDs waits until the table's stream holds n records and returns the
// ids of the events they cause, in stream order.
func eventIDs(t *testing.T, table string, n int) []string {
	t.Helper()
	var ids []string
	poller := &local.Poller{DB: dynamotest.Client(t), Streams: dynamotest.StreamsClient(t), Table: table, Interval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	seen := 0
	poller.Handle = func(_ context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		for _, rec := range batch.Records {
			seen++
			evs, err := webhook.Produce(rec, nil)
			if err != nil {
				t.Error(err)
			}
			for _, ev := range evs {
				ids = append(ids, ev.ID)
			}
		}
		if seen >= n {
			cancel()
		}
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	if err := poller.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if seen < n {
		t.Fatalf("the stream holds %d records, want %d", seen, n)
	}
	return ids
}
