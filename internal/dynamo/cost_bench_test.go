package dynamo_test

import (
	"fmt"
	"testing"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
)

// BenchmarkListCost reports, for every filter combination x sort x order
// in default-size pages over the 160 tickets TestReadAmplification walks,
// what DynamoDB read per item returned (read/returned) and per item the
// filters matched (read/matched), the read capacity and the Query calls of
// a page. The numbers are counts, not times: one walk gives them.
//
//	go test -run '^$' -bench ListCost -benchtime 1x ./internal/dynamo/
func BenchmarkListCost(b *testing.B) {
	s := costStore(b)
	for _, q := range costQueries() {
		b.Run(fmt.Sprintf("filters=%s/sort=%s/order=%s", describe(q), q.SortBy, q.Order), func(b *testing.B) {
			var c walkCost
			for b.Loop() {
				c = measureWalk(b, s, q)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(c.readPerReturned(), "read/returned")
			b.ReportMetric(c.readPerMatched(), "read/matched")
			b.ReportMetric(c.rcuPerPage(), "RCU/page")
			b.ReportMetric(float64(c.calls)/float64(len(c.pages)), "calls/page")
		})
	}
}

// BenchmarkItemCost reports the capacity of a typical (assigned) ticket's
// calls, as TestWriteCost measures them: a GET's read units and the write
// units of a create, an update and a delete, indexes included.
//
//	go test -run '^$' -bench ItemCost -benchtime 1x ./internal/dynamo/
func BenchmarkItemCost(b *testing.B) {
	var c itemCost
	for b.Loop() {
		c = measureItemCost(b)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(c.getRCU, "get-RCU")
	b.ReportMetric(c.createWCU, "create-WCU")
	b.ReportMetric(c.updateWCU, "update-WCU")
	b.ReportMetric(c.deleteWCU, "delete-WCU")
	b.ReportMetric(float64(c.indexes), "indexes")
}

// BenchmarkCommentCost reports what a comment costs through the store's
// own calls, as TestCommentCost measures it: a new comment's read and
// write units (the ticket's read, and the transaction of the comment and
// the ticket), the same two writes made apart, and a 25-comment page's
// read units (the Query and the ticket's read) and items read per comment
// returned, unfiltered and for public replies only.
//
//	go test -run '^$' -bench CommentCost -benchtime 1x ./internal/dynamo/
func BenchmarkCommentCost(b *testing.B) {
	var c commentCost
	for b.Loop() {
		c = measureCommentCost(b)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(c.createRCU, "create-RCU")
	b.ReportMetric(c.createWCU, "create-WCU")
	b.ReportMetric(c.plainWCU, "apart-WCU")
	b.ReportMetric(c.pageRCU, "page-RCU")
	b.ReportMetric(c.pageRead, "page-read/returned")
	b.ReportMetric(c.publicRCU, "public-page-RCU")
	b.ReportMetric(c.publicRead, "public-read/returned")
}

// BenchmarkEventCost reports what the activity record costs, as
// TestEventCost measures it: per kind of ticket write, the stream records
// and events it makes and what the stream consumer spends recording them,
// with no subscription and what one subscription to every type adds
// (write=…); per event, its write units by table and index, the
// consumer's read units and the body's size (event); the throttle point
// of the feed's shards (throttle); and the read units, round trips and
// items read per item returned of pages of 100 of the feed, filtered or
// not, and of a ticket's history (page=…). The numbers are counts, but
// for the consumer's milliseconds, against DynamoDB Local. With -short
// (make bench BENCH_QUICK=1) it makes a tenth of the writes.
//
//	go test -run '^$' -bench EventCost -benchtime 1x ./internal/dynamo/
func BenchmarkEventCost(b *testing.B) {
	blocks := eventBlocks
	if testing.Short() {
		blocks /= 10
	}
	c := measureEventCost(b, blocks)
	report := func(name string, metrics map[string]float64) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(0, "ns/op")
			for unit, v := range metrics {
				b.ReportMetric(v, unit)
			}
		})
	}
	for _, k := range c.kinds {
		report("write="+k.kind, map[string]float64{
			"records/write": k.perWrite(float64(k.records)), "events/write": k.perWrite(float64(k.events)),
			"WCU/write": k.perWrite(k.wcu), "RCU/write": k.perWrite(k.rcu), "calls/batch": float64(k.calls) / float64(k.batches),
			"ms/record": k.msPerRecord(), "sub-WCU/write": k.subWCU, "sub-RCU/write": k.subRCU,
			"sub-ms/record": k.subMsPerRecord,
		})
	}
	report("event", map[string]float64{
		"WCU/event": c.wcu, "table-WCU/event": c.tableWCU, "feed-WCU/event": c.feedWCU, "history-WCU/event": c.historyWCU,
		"RCU/event": c.rcu, "body-bytes": c.bodyMean, "body-max-bytes": float64(c.bodyMax),
		"sub-WCU/event": c.subWCU, "sub-RCU/event": c.subRCU,
	})
	report("throttle", map[string]float64{
		"feed-WCU/event": c.feedWCU, "shard-events/s": c.shardEventsPerSecond(), "events/s": c.evenEventsPerSecond(),
		"events/write": c.eventsPerWrite(), "ticket-writes/s": c.evenEventsPerSecond() / c.eventsPerWrite(),
		"max-shard-share": c.shardMax, "skewed-events/s": c.skewedEventsPerSecond(), "skewed-ticket-writes/s": c.skewedEventsPerSecond() / c.eventsPerWrite(),
	})
	for _, p := range c.pages() {
		report("page="+p.bench, map[string]float64{
			"returned": float64(p.p.returned), "RCU/page": p.p.rcuPerPage(), "calls/page": p.p.callsPerPage(),
			"read/returned": p.p.readPerReturned(), "worst-read/returned": p.p.worst,
		})
	}
}

// BenchmarkWorkloadCost reports issue 13's workload's units for make
// bench's cost model: a list page weighted over the list mix (1,000
// tickets, whole walks; 200 and five pages a walk with -short), and each
// write kind's units through the services, an update's averaged over the
// write mix's status, assignment and other updates.
func BenchmarkWorkloadCost(b *testing.B) {
	n, maxPages := 1000, 0
	if testing.Short() {
		n, maxPages = 200, 5
	}
	lists := workloadLists(b, dynamo.Table, n, maxPages, false)
	writes := workloadWrites(b, dynamo.Table, false)
	for b.Loop() {
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(lists.rcu, "list-RCU/page")
	b.ReportMetric(lists.calls, "list-calls/page")
	b.ReportMetric(lists.rounds, "list-rounds/page")
	var updWCU, updRCU, updShare float64
	for _, m := range dynamotest.WriteMix {
		c := writes[m.Value]
		switch m.Value {
		case dynamotest.WriteCreate:
			b.ReportMetric(c.per(c.wcu), "create-WCU")
		case dynamotest.WriteComment:
			b.ReportMetric(c.per(c.wcu), "comment-WCU")
			b.ReportMetric(c.per(c.rcu), "comment-RCU")
		default:
			updWCU += m.Share * c.per(c.wcu)
			updRCU += m.Share * c.per(c.rcu)
			updShare += m.Share
		}
	}
	b.ReportMetric(updWCU/updShare, "update-WCU")
	b.ReportMetric(updRCU/updShare, "update-RCU")
}
