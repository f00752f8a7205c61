package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// bulkTable is the table of BenchmarkBulkUpdate in the shared DynamoDB
// Local.
const bulkTable = "bench-bulk"

// updateTimeout is the update function's timeout (infra/stack,
// functions.go), which serves update_many.
const updateTimeout = 10 * time.Second

// BenchmarkBulkUpdate serves POST /tickets/update_many of n tickets the
// way the update function does (a payload 2.0 event through the adapter,
// as BenchmarkRequest serves its requests) and, in the same loop, the
// same change made by n PUTs one after another, as a client without the
// bulk route would, on another n tickets, alternating which goes first.
// Every request changes its tickets (open and pending in turn). It
// reports each side's median and p99, their ratios (x-seq-p50,
// x-seq-p99) and the bulk p99 as a share of the function's timeout
// (p99-x-timeout). n is 100, the most a request takes; 10 with -short.
//
//	go test -run '^$' -bench BulkUpdate -benchtime 20x -count 1 ./infra/bench/
func BenchmarkBulkUpdate(b *testing.B) {
	n := helpdesk.MaxBulkIDs
	if testing.Short() {
		n = 10
	}
	ctx := context.Background()
	db := productionClient(b)
	if err := local.EnsureTable(ctx, db, bulkTable); err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(db, bulkTable, nil)
	key := dynamotest.AddKey(b, store, helpdesk.PermWrite)
	newTickets := func() []string {
		ids := make([]string, n)
		for i := range ids {
			t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
			t.Subject, t.Tags = fmt.Sprintf("Bulk benchmark ticket %d", i), []string{"bench"}
			if err := store.CreateTicket(ctx, t, nil); err != nil {
				b.Fatal(err)
			}
			ids[i] = t.ID
		}
		return ids
	}
	bulkIDs, seqIDs := newTickets(), newTickets()
	sys, err := app.New(config.Config{Table: bulkTable, CursorKey: make([]byte, cursor.KeySize)}, app.Clients{DynamoDB: db}, discardLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	proxy := httpadapter.NewV2(serve.Handler(sys, httpapi.UpdateTicket)).ProxyWithContext
	serveOne := func(method, path, body string) []byte {
		res, err := proxy(ctx, updateEvent(method, path, body, key))
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %d: %.300s", method, path, res.StatusCode, res.Body)
		}
		return []byte(res.Body)
	}
	change := func(i int) string { return []string{`{"status": "open"}`, `{"status": "pending"}`}[i%2] }
	bulk := func(i int) time.Duration {
		body := `{"ids": ["` + strings.Join(bulkIDs, `", "`) + `"], "ticket": ` + change(i) + `}`
		start := time.Now()
		raw := serveOne(http.MethodPost, "/tickets/update_many", body)
		took := time.Since(start)
		var answer struct{ Results []struct{ Status int } }
		if err := json.Unmarshal(raw, &answer); err != nil || len(answer.Results) != n {
			b.Fatalf("update_many answered %.300s (%v)", raw, err)
		}
		for _, r := range answer.Results {
			if r.Status != http.StatusOK {
				b.Fatalf("update_many: a ticket answered %d: %.300s", r.Status, raw)
			}
		}
		return took
	}
	sequential := func(i int) time.Duration {
		body := `{"ticket": ` + change(i) + `}`
		start := time.Now()
		for _, id := range seqIDs {
			serveOne(http.MethodPut, "/tickets/"+id, body)
		}
		return time.Since(start)
	}
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		bulk(0)
		sequential(0)
		var bulkMS, seqMS []float64
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		for i := 1; b.Loop(); i++ {
			if i%2 == 0 {
				bulkMS = append(bulkMS, ms(bulk(i)))
				seqMS = append(seqMS, ms(sequential(i)))
			} else {
				seqMS = append(seqMS, ms(sequential(i)))
				bulkMS = append(bulkMS, ms(bulk(i)))
			}
		}
		b.ReportMetric(0, "ns/op") // both sides together: meaningless
		b.ReportMetric(bench.Median(bulkMS), "bulk-p50-ms")
		b.ReportMetric(bench.Percentile(bulkMS, 99), "bulk-p99-ms")
		b.ReportMetric(bench.Median(seqMS), "seq-p50-ms")
		b.ReportMetric(bench.Percentile(seqMS, 99), "seq-p99-ms")
		b.ReportMetric(bench.Median(bulkMS)/bench.Median(seqMS), "x-seq-p50")
		b.ReportMetric(bench.Percentile(bulkMS, 99)/bench.Percentile(seqMS, 99), "x-seq-p99")
		b.ReportMetric(bench.Percentile(bulkMS, 99)/ms(updateTimeout), "p99-x-timeout")
	})
}

// updateEvent is an HTTP API payload 2.0 event of a route of the update
// function: method on path (under BasePath) with body and the key.
func updateEvent(method, path, body, key string) events.APIGatewayV2HTTPRequest {
	route := "/tickets/{id}"
	params := map[string]string{"id": strings.TrimPrefix(path, "/tickets/")}
	if method == http.MethodPost {
		route, params = path, nil
	}
	full := httpapi.BasePath + path
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + httpapi.BasePath + route, RawPath: full, PathParameters: params,
		Headers: map[string]string{"authorization": "Bearer " + key, "content-type": "application/json", "host": "bench.example.com"},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: method + " " + httpapi.BasePath + route, Stage: "$default", RequestID: "bench-bulk", DomainName: "bench.example.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: full, SourceIP: "127.0.0.1"},
		},
	}
}
