package bench_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/infra/bench"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// rateTable is the table of the rate limit benchmark.
const rateTable = "bench-ratelimit"

// benchRateLimit is the key's limit in the benchmark: the default
// deployed limit.
const benchRateLimit = config.DefaultRateLimit

// BenchmarkRateLimit serves GET ticket through the adapter, router, key
// check and store on DynamoDB Local twice per iteration, alternating which
// goes first: once by a system with the rate limiter on and once by one
// without it, both assembled by app.New. The key sends exactly its limit:
// the limiter's clock moves a window ÷ limit per request, so every window
// sees the steady load of a key at its limit. It reports the write units
// the limiter adds per request (extra-wcu/op, the metered consumed
// capacity of the two systems' calls; target ≤ 0.1) and the ratio of the
// medians (x-off-p50, target ≤ 1.05).
//
//	go test -run '^$' -bench RateLimit -benchtime 2s -count 5 ./infra/bench/
func BenchmarkRateLimit(b *testing.B) {
	ctx := context.Background()
	srv := dynamoLocal(b)
	db, err := ddblocal.NewClient(ctx, srv.Endpoint())
	if err != nil {
		b.Fatal(err)
	}
	if err := local.EnsureTable(ctx, db, rateTable); err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(db, rateTable, nil)
	key := dynamotest.AddKey(b, store, helpdesk.PermRead)
	t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
	t.Subject = "Rate limit benchmark ticket"
	if err := store.CreateTicket(ctx, t, nil); err != nil {
		b.Fatal(err)
	}
	system := func(limit int) (*app.System, *dynamotest.Metered) {
		m := dynamotest.NewMetered(db)
		sys, err := app.New(config.Config{Table: rateTable, CursorKey: make([]byte, cursor.KeySize), RateLimit: limit}, app.Clients{DynamoDB: m}, discardLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		return sys, m
	}
	on, onMeter := system(benchRateLimit)
	off, offMeter := system(0)
	// Requests at exactly the limit: each moves the clock a window ÷ limit.
	var mu sync.Mutex
	clock := time.Now().Truncate(time.Minute)
	on.Limiter.SetClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute / benchRateLimit)
		return clock
	})
	ev := withMethod(loadEvent(b, "get-ticket-stage.json", map[string]string{"read": key, "id": t.ID}), http.MethodGet, "/tickets/{id}", "/tickets/"+t.ID, "", key)
	serveOn := httpadapter.NewV2(serve.Handler(on, httpapi.GetTicket)).ProxyWithContext
	serveOff := httpadapter.NewV2(serve.Handler(off, httpapi.GetTicket)).ProxyWithContext
	timed := func(proxy func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)) float64 {
		start := time.Now()
		res, err := proxy(ctx, ev)
		took := time.Since(start)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("GET ticket: %v %d %.300s", err, res.StatusCode, res.Body)
		}
		return float64(took) / float64(time.Millisecond)
	}
	timed(serveOn)
	timed(serveOff)
	onMeter.Take()
	offMeter.Take()
	var withLimit, without []float64
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			withLimit = append(withLimit, timed(serveOn))
			without = append(without, timed(serveOff))
		} else {
			without = append(without, timed(serveOff))
			withLimit = append(withLimit, timed(serveOn))
		}
	}
	n := float64(len(withLimit))
	onUse, offUse := onMeter.Take(), offMeter.Take()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric((onUse.WCU-offUse.WCU)/n, "extra-wcu/op")
	b.ReportMetric(float64(onUse.Calls["UpdateItem"])/n, "leases/op")
	b.ReportMetric(bench.Median(withLimit), "p50-ms")
	b.ReportMetric(bench.Median(without), "off-p50-ms")
	b.ReportMetric(bench.Median(withLimit)/bench.Median(without), "x-off-p50")
	b.ReportMetric(bench.Percentile(withLimit, 99)/bench.Percentile(without, 99), "x-off-p99")
}
