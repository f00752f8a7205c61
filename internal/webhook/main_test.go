package webhook_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/webhook"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// testLogger writes the dispatcher's log to the test's output, which is
// shown when the test fails or with -v.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), nil))
}

// newClock returns a clock at the current time, rounded down to the second
// so that the times the store keeps (milliseconds) are exact.
func newClock() *dynamotest.Clock { return dynamotest.NewClock(time.Now().UTC().Truncate(time.Second)) }

// newDispatcher returns a dispatcher on store that delivers through guard's
// client, on clk when it is not nil.
func newDispatcher(tb testing.TB, store webhook.Store, guard *ssrf.Guard, clk *dynamotest.Clock) *webhook.Dispatcher {
	tb.Helper()
	client := guard.Client(webhook.AttemptTimeout)
	tb.Cleanup(client.CloseIdleConnections)
	d := webhook.NewDispatcher(store, client, testLogger(tb), 4)
	if clk != nil {
		d.SetClock(clk.Now)
	}
	return d
}

// request is one request a receiver got.
type request struct {
	method string
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that records what it gets.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

// newReceiver starts a receiver that answers its hit'th request (from 1)
// with respond.
func newReceiver(tb testing.TB, respond func(w http.ResponseWriter, hit int)) *receiver {
	tb.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, request{method: req.Method, header: req.Header.Clone(), body: body})
		hit := len(r.reqs)
		r.mu.Unlock()
		respond(w, hit)
	}))
	tb.Cleanup(r.Close)
	return r
}

// answer responds with status and a short body.
func answer(status int) func(http.ResponseWriter, int) {
	return func(w http.ResponseWriter, _ int) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answered "+strconv.Itoa(status))
	}
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func (r *receiver) hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// produce returns the events of rec, failing the test on an error.
func produce(tb testing.TB, rec lambdaevents.DynamoDBEventRecord) []*helpdesk.StoredEvent {
	tb.Helper()
	evs, err := webhook.Produce(rec, nil)
	if err != nil {
		tb.Fatalf("Produce(%s %s): %v", rec.EventName, rec.EventID, err)
	}
	return evs
}

// produceAll returns the events of recs as the dispatcher makes them: a
// ticket's removal takes who deleted it when from its tombstone among
// recs.
func produceAll(tb testing.TB, recs []lambdaevents.DynamoDBEventRecord) []*helpdesk.StoredEvent {
	tb.Helper()
	deletions := map[string]helpdesk.Stamp{}
	for _, rec := range recs {
		id, del, ok, err := dynamo.TombstoneFromImage(rec.Change.NewImage)
		if err != nil {
			tb.Fatal(err)
		}
		if ok {
			deletions[id] = del
		}
	}
	var out []*helpdesk.StoredEvent
	for _, rec := range recs {
		var del *helpdesk.Stamp
		if id, ok := dynamo.IsTicketRemoval(rec); ok {
			if d, ok := deletions[id]; ok {
				del = &d
			}
		}
		evs, err := webhook.Produce(rec, del)
		if err != nil {
			tb.Fatalf("Produce(%s %s): %v", rec.EventName, rec.EventID, err)
		}
		out = append(out, evs...)
	}
	return out
}

// decodeEvent decodes a delivery body.
func decodeEvent(tb testing.TB, body []byte) events.Event {
	tb.Helper()
	var ev events.Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber() // numbers as the event spells them, as view.Ticket holds them
	if err := dec.Decode(&ev); err != nil {
		tb.Fatalf("decode event %s: %v", body, err)
	}
	return ev
}

// checkRequest checks that req is a delivery of ev, sent at at and signed
// with secret.
func checkRequest(tb testing.TB, req request, secret string, ev *helpdesk.StoredEvent, at time.Time) {
	tb.Helper()
	if req.method != http.MethodPost {
		tb.Errorf("method = %s, want POST", req.method)
	}
	for name, want := range map[string]string{
		"Content-Type":         "application/json",
		"User-Agent":           webhook.UserAgent,
		events.HeaderID:        ev.ID,
		events.HeaderTimestamp: strconv.FormatInt(at.Unix(), 10),
	} {
		if got := req.header.Get(name); got != want {
			tb.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if !bytes.Equal(req.body, ev.Body) {
		tb.Errorf("body = %s, want the stored event %s", req.body, ev.Body)
	}
	if got := decodeEvent(tb, req.body).ID; got != req.header.Get(events.HeaderID) {
		tb.Errorf("body id %s differs from webhook-id %s", got, req.header.Get(events.HeaderID))
	}
	if err := events.VerifyAt(secret, req.header, req.body, at); err != nil {
		tb.Errorf("VerifyAt: %v", err)
	}
}
