package webhook_test

import (
	"bytes"
	"context"
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
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/webhook"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// newStore returns a store on a fresh table of the shared design, and the
// table's name.
func newStore(tb testing.TB) (*dynamo.Store, string) {
	tb.Helper()
	table := dynamotest.NewTable(tb, dynamo.Table.CreateTableInput)
	return dynamo.New(dynamotest.Client(tb), table, nil), table
}

// testLogger writes the dispatcher's log to the test's output, which is
// shown when the test fails or with -v.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), nil))
}

// clock is an injectable clock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock returns a clock at the current time, rounded down to the second
// so that the times the store keeps (milliseconds) are exact.
func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// newDispatcher returns a dispatcher on store that delivers through guard's
// client, on clk when it is not nil.
func newDispatcher(tb testing.TB, store helpdesk.WebhookStore, guard *ssrf.Guard, clk *clock) *webhook.Dispatcher {
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

// msNow is the current time as the store keeps it.
func msNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// createTicket stores a new ticket, adjusted by edit when it is not nil.
func createTicket(tb testing.TB, store *dynamo.Store, edit func(*helpdesk.Ticket)) *helpdesk.Ticket {
	tb.Helper()
	t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), msNow())
	t.Subject = "Printer on fire"
	if edit != nil {
		edit(t)
	}
	if err := store.CreateTicket(tb.Context(), t, nil); err != nil {
		tb.Fatalf("CreateTicket: %v", err)
	}
	return t
}

// updateTicket changes a stored ticket with edit (which may be nil) and
// moves its updatedAt forward, and returns it as stored.
func updateTicket(tb testing.TB, store *dynamo.Store, id string, edit func(*helpdesk.Ticket)) *helpdesk.Ticket {
	tb.Helper()
	t, err := store.UpdateTicket(tb.Context(), id, func(t *helpdesk.Ticket) (bool, error) {
		if edit != nil {
			edit(t)
		}
		next := msNow()
		if !next.After(t.UpdatedAt) {
			next = t.UpdatedAt.Add(time.Millisecond)
		}
		t.UpdatedAt = next
		return true, nil
	})
	if err != nil {
		tb.Fatalf("UpdateTicket: %v", err)
	}
	return t
}

// subscribe stores an active subscription of url to types.
func subscribe(tb testing.TB, store *dynamo.Store, url string, types ...string) *helpdesk.Webhook {
	tb.Helper()
	now := msNow()
	w := &helpdesk.Webhook{
		ID: helpdesk.NewID("whk_"), URL: url, Events: types, Status: helpdesk.WebhookActive,
		Secret: events.NewSecret(), CreatedAt: now, UpdatedAt: now,
	}
	if err := store.CreateWebhook(tb.Context(), w, nil); err != nil {
		tb.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

// readStream reads the whole stream of table from its start, waiting up to
// 10 s for it to hold want records, and returns them as Lambda delivers
// them. It fails the test if it holds more.
func readStream(tb testing.TB, table string, want int) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	recs := readStreamUntil(tb, table, func(recs []lambdaevents.DynamoDBEventRecord) bool { return len(recs) >= want })
	if len(recs) != want {
		tb.Fatalf("the stream of %s holds %d records, want %d", table, len(recs), want)
	}
	return recs
}

// readStreamUntil reads the whole stream of table from its start, as
// Lambda delivers it, until done accepts what it holds (for up to 10 s).
func readStreamUntil(tb testing.TB, table string, done func([]lambdaevents.DynamoDBEventRecord) bool) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	ctx := tb.Context()
	desc, err := dynamotest.Client(tb).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		tb.Fatalf("DescribeTable: %v", err)
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil {
		tb.Fatalf("table %s has no stream", table)
	}
	streams := dynamotest.StreamsClient(tb)
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := readShards(tb, ctx, streams, arn)
		recs := make([]lambdaevents.DynamoDBEventRecord, len(raw))
		for i, r := range raw {
			recs[i] = ddblocal.LambdaRecord(r)
		}
		if done(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the stream of %s still lacks what the test waits for after 10 s (%d records)", table, len(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordsAfter returns the records of recs after the one with the sequence
// number seq.
func recordsAfter(tb testing.TB, recs []lambdaevents.DynamoDBEventRecord, seq string) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	for i, r := range recs {
		if r.Change.SequenceNumber == seq {
			return recs[i+1:]
		}
	}
	tb.Fatalf("no stream record has sequence number %s", seq)
	return nil
}

// readShards returns every record of every shard of a stream, from the
// start.
func readShards(tb testing.TB, ctx context.Context, streams *dynamodbstreams.Client, arn *string) []streamtypes.Record {
	tb.Helper()
	var shards []streamtypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: arn}
	for {
		out, err := streams.DescribeStream(ctx, in)
		if err != nil {
			tb.Fatalf("DescribeStream: %v", err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if out.StreamDescription.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
	var recs []streamtypes.Record
	for _, sh := range shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			tb.Fatalf("GetShardIterator: %v", err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				tb.Fatalf("GetRecords: %v", err)
			}
			if len(out.Records) == 0 {
				break // the open end of the shard
			}
			recs = append(recs, out.Records...)
			iter = out.NextShardIterator
		}
	}
	return recs
}

// produce returns the events of rec, failing the test on an error.
func produce(tb testing.TB, rec lambdaevents.DynamoDBEventRecord) []*helpdesk.StoredEvent {
	tb.Helper()
	evs, err := webhook.Produce(rec)
	if err != nil {
		tb.Fatalf("Produce(%s %s): %v", rec.EventName, rec.EventID, err)
	}
	return evs
}

// decodeEvent decodes a delivery body.
func decodeEvent(tb testing.TB, body []byte) events.Event {
	tb.Helper()
	var ev events.Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
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
