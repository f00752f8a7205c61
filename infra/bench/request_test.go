package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/infra/bench"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// requestTable is the table of the request benchmarks in the shared
// DynamoDB Local.
const requestTable = "bench-requests"

// fixtures are the HTTP API payload 2.0 events of the adapter tests.
const fixtures = "../../internal/httpapi/testdata/events/"

// BenchmarkRequest serves GET ticket, create ticket and a list page the
// way a function does — an HTTP API payload 2.0 event through the adapter
// (httpadapter.NewV2(handler).ProxyWithContext), the router, the cached
// API-key check, the store on DynamoDB Local and the JSON response — and,
// in the same loop, the bare SDK calls that request makes (recorded from
// it, replayed with the same client), alternating which goes first. It
// reports each side's median and p99 and their ratios (x-sdk-p50,
// x-sdk-p99), and the DynamoDB round trips of a request (calls/op).
// Update and delete are served without a baseline, for their durations
// and round trips (the cost estimate uses them).
//
//	go test -run '^$' -bench Request -benchtime 2s -count 5 ./infra/bench/
func BenchmarkRequest(b *testing.B) {
	ctx := context.Background()
	base := productionClient(b)
	calls := &sdkCalls{}
	db := calls.client(base)
	if err := local.EnsureTable(ctx, base, requestTable); err != nil {
		b.Fatal(err)
	}
	key := make([]byte, cursor.KeySize)
	store := dynamo.New(base, requestTable, nil)
	vars := map[string]string{}
	for _, perm := range []helpdesk.Permission{helpdesk.PermRead, helpdesk.PermWrite} {
		vars[string(perm)] = dynamotest.AddKey(b, store, perm)
	}
	// Enough tickets for a full default page and its look-ahead item.
	var ids []string
	for i := range helpdesk.DefaultPageSize * 2 {
		t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
		t.Subject = fmt.Sprintf("Benchmark ticket %d", i)
		// Spread over the open statuses (a closed ticket takes no comment),
		// so that a list merged over the statuses merges something.
		t.Status = helpdesk.Statuses[i%3]
		if err := store.CreateTicket(ctx, t, nil); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, t.ID)
	}
	vars["id"] = ids[0]
	sys, err := app.New(config.Config{Table: requestTable, CursorKey: key}, app.Clients{DynamoDB: db}, discardLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	proxy := func(ep httpapi.Endpoint) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return httpadapter.NewV2(serve.Handler(sys, ep)).ProxyWithContext
	}

	get := loadEvent(b, "get-ticket-stage.json", vars)
	create := loadEvent(b, "create-ticket-base64.json", vars)
	list := loadEvent(b, "list-tickets.json", vars)
	// The first page of the default list: 25 tickets, newest first.
	list.RawQueryString, list.QueryStringParameters = "", nil

	b.Run("op=get", func(b *testing.B) {
		measure(b, calls, proxy(httpapi.GetTicket), func(int) events.APIGatewayV2HTTPRequest { return get }, http.StatusOK, db, false)
	})
	b.Run("op=create", func(b *testing.B) {
		measure(b, calls, proxy(httpapi.CreateTicket), func(int) events.APIGatewayV2HTTPRequest { return create }, http.StatusCreated, db, false)
	})
	b.Run("op=list", func(b *testing.B) {
		measure(b, calls, proxy(httpapi.ListTickets), func(int) events.APIGatewayV2HTTPRequest { return list }, http.StatusOK, db, false)
	})
	// The first page by updated_at: the index plan merges the five status
	// partitions, one Query each sent at once, so the baseline replays
	// its calls at once too.
	merged := list
	merged.RawQueryString, merged.QueryStringParameters = "sort_by=updated_at", map[string]string{"sort_by": "updated_at"}
	b.Run("op=list-merged", func(b *testing.B) {
		measure(b, calls, proxy(httpapi.ListTickets), func(int) events.APIGatewayV2HTTPRequest { return merged }, http.StatusOK, db, true)
	})
	// A conversation of more than a page, for the comment list.
	for range helpdesk.DefaultPageSize + 5 {
		body := "Have you tried turning it off and on again?"
		if _, _, err := sys.Conversations.AddComment(ctx, ids[0], &helpdesk.CommentDraft{Body: &body, AuthorID: helpdesk.Set("usr_bench")}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("op=comment", func(b *testing.B) {
		// Spread over the tickets, to stay far below a ticket's comment cap.
		measure(b, calls, proxy(httpapi.Comments), func(i int) events.APIGatewayV2HTTPRequest {
			return withMethod(get, http.MethodPost, "/tickets/{id}/comments", "/tickets/"+ids[1+i%(len(ids)-1)]+"/comments",
				`{"comment": {"body": "Thanks, we are looking into it.", "authorId": "usr_bench"}}`, vars["write"])
		}, http.StatusCreated, db, false)
	})
	b.Run("op=comments", func(b *testing.B) {
		// The first page of a conversation, oldest first; the request reads
		// the ticket beside the page, so the baseline makes both calls at
		// once too.
		measure(b, calls, proxy(httpapi.Comments), func(int) events.APIGatewayV2HTTPRequest {
			return withMethod(get, http.MethodGet, "/tickets/{id}/comments", "/tickets/"+ids[0]+"/comments", "", vars["read"])
		}, http.StatusOK, db, true)
	})
	// The change feed: the stream consumer, as the local stack runs it,
	// records the events of every write so far (with these, more than a
	// page of 100 even when only this benchmark runs), then stops, so that nothing else uses the table while the page is
	// measured; the page waits out the settle window once.
	for range helpdesk.DefaultEventPageSize {
		t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
		t.Subject = "Feed benchmark ticket"
		if err := store.CreateTicket(ctx, t, nil); err != nil {
			b.Fatal(err)
		}
	}
	recordFeed(b, dynamoLocal(b).Endpoint(), base, helpdesk.DefaultEventPageSize+1)
	b.Run("op=events", func(b *testing.B) {
		// The first page of the feed, its four shards merged. The baseline
		// makes the page's calls all at once, though the store makes them
		// in rounds (a second round when a shard runs short), so its
		// ratio errs high.
		measure(b, calls, proxy(httpapi.Events), func(int) events.APIGatewayV2HTTPRequest {
			return withMethod(get, http.MethodGet, "/events", "/events", "", vars["read"])
		}, http.StatusOK, db, true)
	})
	b.Run("op=update", func(b *testing.B) {
		statuses := []string{`{"ticket": {"status": "open"}}`, `{"ticket": {"status": "pending"}}`}
		measure(b, calls, proxy(httpapi.UpdateTicket), func(i int) events.APIGatewayV2HTTPRequest {
			// A real change every time: open and pending in turn.
			return withMethod(get, http.MethodPut, "/tickets/{id}", "/tickets/"+ids[1], statuses[i%2], vars["write"])
		}, http.StatusOK, nil, false)
	})
	b.Run("op=delete", func(b *testing.B) {
		measure(b, calls, proxy(httpapi.DeleteTicket), func(int) events.APIGatewayV2HTTPRequest {
			t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
			t.Subject = "To be deleted"
			if err := store.CreateTicket(ctx, t, nil); err != nil {
				b.Fatal(err)
			}
			return withMethod(get, http.MethodDelete, "/tickets/{id}", "/tickets/"+t.ID, "", vars["write"])
		}, http.StatusNoContent, nil, false)
	})
}

// productionClient is the functions' own DynamoDB client on the bench's
// DynamoDB Local: app.DynamoDB reads the endpoint, region and credentials
// from the environment as a function does.
func productionClient(b *testing.B) *dynamodb.Client {
	b.Helper()
	b.Setenv("AWS_ENDPOINT_URL", dynamoLocal(b).Endpoint())
	b.Setenv("AWS_REGION", "us-east-1")
	b.Setenv("AWS_ACCESS_KEY_ID", "bench")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "bench")
	b.Setenv("AWS_SESSION_TOKEN", "")
	db, err := app.DynamoDB()
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// recordFeed runs the local stack's stream consumer on the request table
// until the feed holds at least want settled events, then waits out the
// settle window, so that a request served on the real clock lists them.
func recordFeed(b *testing.B, endpoint string, db *dynamodb.Client, want int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streams, err := ddblocal.NewStreamsClient(ctx, endpoint)
	if err != nil {
		b.Fatal(err)
	}
	sys, err := app.New(config.Config{Table: requestTable, CursorKey: make([]byte, cursor.KeySize)}, app.Clients{DynamoDB: db}, discardLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	poller := &local.Poller{DB: db, Streams: streams, Table: requestTable, Handle: deliver.StreamConsumer(sys, deliver.Dispatcher(sys)),
		Interval: 50 * time.Millisecond, Logger: discardLogger(b)}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := poller.Run(ctx); err != nil && ctx.Err() == nil {
			b.Errorf("stream consumer: %v", err)
		}
	})
	defer wg.Wait()
	defer cancel()
	// A reader of its own, ahead by the settle window, to see the events
	// as soon as they are recorded (the consumer's clock stays true).
	codec, err := cursor.New(make([]byte, cursor.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	reader := dynamo.New(db, requestTable, codec)
	reader.SetClock(func() time.Time { return time.Now().Add(dynamo.FeedSettle) })
	for {
		page, err := reader.ListEvents(ctx, helpdesk.EventQuery{PageSize: want})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Events) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(dynamo.FeedSettle)
}

// measure serves event(i) through proxy on iteration i and times it; with
// bare set it also replays, with bare, the SDK calls of one such request
// (recorded after a warm-up request has filled the key cache) and times
// them, alternating which of the two goes first. Making the event is not
// in either time.
func measure(b *testing.B, calls *sdkCalls, proxy func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), event func(i int) events.APIGatewayV2HTTPRequest, want int, bare *dynamodb.Client, concurrent bool) {
	b.Helper()
	ctx := context.Background()
	serve := func(ev events.APIGatewayV2HTTPRequest) time.Duration {
		start := time.Now()
		res, err := proxy(ctx, ev)
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != want {
			b.Fatalf("%s %s: %d, want %d: %.300s", ev.RequestContext.HTTP.Method, ev.RawPath, res.StatusCode, want, res.Body)
		}
		return took
	}
	serve(event(0))
	recorded, _ := calls.record(func() error { serve(event(1)); return nil })
	if len(recorded) == 0 {
		b.Fatal("the request made no DynamoDB call")
	}
	baseline := func() time.Duration {
		start := time.Now()
		if concurrent {
			var wg sync.WaitGroup
			errs := make([]error, len(recorded))
			for i, in := range recorded {
				wg.Go(func() { errs[i] = replay(ctx, bare, in) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		for _, in := range recorded {
			if err := replay(ctx, bare, in); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var stack, sdk []float64
	var trips int64
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for i := 2; b.Loop(); i++ {
		ev := event(i)
		if bare != nil && i%2 == 1 {
			sdk = append(sdk, ms(baseline()))
		}
		before := calls.roundTrips.Load()
		stack = append(stack, ms(serve(ev)))
		trips += calls.roundTrips.Load() - before
		if bare != nil && i%2 == 0 {
			sdk = append(sdk, ms(baseline()))
		}
	}
	b.ReportMetric(0, "ns/op") // the sum of both sides and of making events: meaningless
	b.ReportMetric(bench.Median(stack), "p50-ms")
	b.ReportMetric(bench.Percentile(stack, 99), "p99-ms")
	b.ReportMetric(float64(trips)/float64(len(stack)), "calls/op")
	if bare != nil {
		b.ReportMetric(bench.Median(sdk), "sdk-p50-ms")
		b.ReportMetric(bench.Percentile(sdk, 99), "sdk-p99-ms")
		b.ReportMetric(bench.Median(stack)/bench.Median(sdk), "x-sdk-p50")
		b.ReportMetric(bench.Percentile(stack, 99)/bench.Percentile(sdk, 99), "x-sdk-p99")
	}
}

// loadEvent reads an event fixture, filling in its {{placeholders}}.
func loadEvent(b *testing.B, name string, vars map[string]string) events.APIGatewayV2HTTPRequest {
	b.Helper()
	raw, err := os.ReadFile(fixtures + name)
	if err != nil {
		b.Fatal(err)
	}
	for k, v := range vars {
		raw = bytes.ReplaceAll(raw, []byte("{{"+k+"}}"), []byte(v))
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return ev
}

// withMethod returns a copy of ev, an event of a /tickets/{id} route, for
// another method and route, at path (under BasePath, naming ticket id),
// with body and the key.
func withMethod(ev events.APIGatewayV2HTTPRequest, method, route, path, body, key string) events.APIGatewayV2HTTPRequest {
	out := ev
	prefix, _, _ := strings.Cut(ev.RawPath, httpapi.BasePath)
	id, _, _ := strings.Cut(strings.TrimPrefix(path, "/tickets/"), "/")
	out.RawPath = prefix + httpapi.BasePath + path
	out.RouteKey = method + " " + httpapi.BasePath + route
	out.PathParameters = map[string]string{"id": id}
	out.Headers = map[string]string{"authorization": "Bearer " + key, "host": ev.Headers["host"]}
	if body != "" {
		out.Headers["content-type"] = "application/json"
	}
	out.Body, out.IsBase64Encoded = body, false
	out.RequestContext.RouteKey = out.RouteKey
	out.RequestContext.HTTP.Method = method
	out.RequestContext.HTTP.Path = out.RawPath
	return out
}
