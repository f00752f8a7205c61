package bench

import (
	"maps"
	"slices"
	"strings"

	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/internal/httpapi"
)

// The targets.
var (
	coldStartNoDBTarget = &Target{Limit: 1.15} // init ÷ hello world, for a function in noDynamoDB
	coldStartDBTarget   = &Target{Limit: 1.10} // init ÷ sdkonly (hello world + a DynamoDB client), for every other function
	sizeTarget          = &Target{Limit: 2}    // binary ÷ hello world
	overheadTarget      = &Target{Limit: 1.15} // request ÷ bare SDK calls, at the median
	noErrors            = &Target{Limit: 0, Hard: true}
	rateWritesTarget    = &Target{Limit: 0.1}  // write units the rate limiter adds per request, a key at its limit
	rateLatencyTarget   = &Target{Limit: 1.05} // request with the rate limiter ÷ without, at the median
)

// noDynamoDB is the set of functions (e2e.Functions entries) that make no
// DynamoDB call, neither in their init nor when invoked, and so build no
// DynamoDB client: openapi only serves the embedded OpenAPI document, with
// no API key to look up and no table (httpapi.Docs). It is the one place
// that decides which cold-start target a function has: one of these is
// judged against hello world, which it should barely exceed; every other
// function against sdkonly, hello world with a DynamoDB client, the floor
// under anything that calls DynamoDB through the AWS SDK. A function that
// drops or gains its DynamoDB calls moves in or out of this set.
var noDynamoDB = map[string]bool{
	string(httpapi.Docs): true,
}

// The cold-start table's rows (sub-benchmarks "fn=<function>") on either
// side of noDynamoDB, for the targets of its columns.
var (
	noDynamoDBRows = &rowSet{
		name: strings.Join(slices.Sorted(maps.Keys(noDynamoDB)), ", "),
		has: func(sub string) bool {
			fn, ok := strings.CutPrefix(sub, "fn=")
			return ok && noDynamoDB[fn]
		},
	}
	dynamoDBRows = &rowSet{
		name: "the others",
		has:  func(sub string) bool { return !noDynamoDBRows.has(sub) },
	}
)

func prefixed(key string, values ...string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = key + "=" + v
	}
	return out
}

// costSection is the title of the section the cost estimate belongs to.
const costSection = "3. DynamoDB cost"

type sectionSpec struct {
	title  string
	tables []tableSpec
	notes  []string
}

// sections lays out the report: which benchmark fills which table.
func sections() []sectionSpec {
	return []sectionSpec{
		{
			title: "1. Cold start",
			tables: []tableSpec{{
				title: "INIT REPORT under aws-lambda-rie, median of the fresh starts of a run, ÷ hello world and ÷ sdkonly (hello + a DynamoDB client), each started in turn with the function (same flags, same run); size ÷ hello world",
				bench: "BenchmarkColdStart", rows: prefixed("fn", e2e.Functions...), first: "function",
				cols: []column{
					{header: "init ms", unit: "init-ms", digits: 2},
					{header: "hello ms", unit: "hello-init-ms", digits: 2},
					{header: "÷ hello", unit: "x-hello", digits: 2, target: coldStartNoDBTarget, judged: noDynamoDBRows},
					{header: "sdkonly ms", unit: "sdkonly-init-ms", digits: 2},
					{header: "÷ sdkonly", unit: "x-sdkonly", digits: 2, target: coldStartDBTarget, judged: dynamoDBRows},
					{header: "MB", unit: "MB", digits: 2},
					{header: "size ÷ hello", unit: "size-x-hello", digits: 2, target: sizeTarget},
				},
			}, {
				title: "reference points, measured the same way: hello + a DynamoDB client (sdkonly), + config.LoadDefaultConfig, as the functions loaded it before app.FunctionAWSConfig (sdkconfig)",
				bench: "BenchmarkColdStart", rows: prefixed("ref", "sdkonly", "sdkconfig"), first: "binary",
				cols: []column{
					{header: "init ms", unit: "init-ms", digits: 2},
					{header: "hello ms", unit: "hello-init-ms", digits: 2},
					{header: "÷ hello", unit: "x-hello", digits: 2},
					{header: "MB", unit: "MB", digits: 2},
					{header: "size ÷ hello", unit: "size-x-hello", digits: 2},
				},
			}},
			notes: []string{
				"a function that makes no DynamoDB call (" + noDynamoDBRows.name + ") is judged ÷ hello world, every other ÷ sdkonly, the floor under a DynamoDB client; the other ratio of a row is shown without a verdict",
				"bootstraps built for the host's GOARCH (amd64): the deployed arm64 ones cannot run here; otherwise the flags of make build",
			},
		},
		{
			title: "2. Request overhead",
			tables: []tableSpec{
				{
					title: "payload 2.0 event → adapter → router → cached key → DynamoDB Local → JSON, ÷ the bare SDK calls of the request (same client, interleaved)",
					bench: "BenchmarkRequest", rows: prefixed("op", "get", "create", "list", "list-merged", "comment", "comments", "events"), first: "request",
					cols: []column{
						{header: "p50 ms", unit: "p50-ms", digits: 3},
						{header: "SDK p50 ms", unit: "sdk-p50-ms", digits: 3},
						{header: "÷ SDK p50", unit: "x-sdk-p50", digits: 3, target: overheadTarget},
						{header: "p99 ms", unit: "p99-ms", digits: 2},
						{header: "SDK p99 ms", unit: "sdk-p99-ms", digits: 2},
						{header: "÷ SDK p99", unit: "x-sdk-p99", digits: 2},
						{header: "round trips", unit: "calls/op", digits: 0},
					},
				},
				{
					title: "served the same way, without a baseline (their durations feed the cost estimate)",
					bench: "BenchmarkRequest", rows: prefixed("op", "update", "delete"), first: "request",
					cols: []column{
						{header: "p50 ms", unit: "p50-ms", digits: 3},
						{header: "p99 ms", unit: "p99-ms", digits: 2},
						{header: "round trips", unit: "calls/op", digits: 0},
					},
				},
				{
					title: "GET ticket with the per-key rate limiter ÷ without it (both from app.New, interleaved), the key at exactly its limit of 1,200 a minute (docs/rate-limits.md)",
					bench: "BenchmarkRateLimit", rows: []string{""}, first: "",
					cols: []column{
						{header: "extra WCU/request", unit: "extra-wcu/op", digits: 4, target: rateWritesTarget},
						{header: "leases/request", unit: "leases/op", digits: 4},
						{header: "p50 ms", unit: "p50-ms", digits: 3},
						{header: "off p50 ms", unit: "off-p50-ms", digits: 3},
						{header: "÷ off p50", unit: "x-off-p50", digits: 3, target: rateLatencyTarget},
						{header: "÷ off p99", unit: "x-off-p99", digits: 2},
					},
				},
				{
					title: "POST /tickets/update_many of n tickets, served the same way, ÷ the same change as n PUTs one after another (other tickets, interleaved); its p99 ÷ the update function's 10 s timeout",
					bench: "BenchmarkBulkUpdate", first: "tickets",
					cols: []column{
						{header: "bulk p50 ms", unit: "bulk-p50-ms", digits: 1},
						{header: "PUTs p50 ms", unit: "seq-p50-ms", digits: 1},
						{header: "÷ PUTs p50", unit: "x-seq-p50", digits: 2},
						{header: "bulk p99 ms", unit: "bulk-p99-ms", digits: 1},
						{header: "PUTs p99 ms", unit: "seq-p99-ms", digits: 1},
						{header: "÷ PUTs p99", unit: "x-seq-p99", digits: 2},
						{header: "p99 ÷ timeout", unit: "p99-x-timeout", digits: 3},
					},
				},
			},
			notes: []string{
				"update_many runs its tickets' writes 16 at a time (helpdesk.BulkWorkers); DynamoDB Local on this machine's two shared cores serves them little faster than one by one, where DynamoDB's per-call latency is network time that overlaps",
			},
		},
		{
			title: costSection,
			tables: []tableSpec{
				{
					title: "list pages: every filter × sort × order, default pages over 160 tickets (DynamoDB Local's accounting)",
					bench: "BenchmarkListCost", first: "filters sort order",
					cols: []column{
						{header: "read ÷ returned", unit: "read/returned", digits: 3},
						{header: "read ÷ matched", unit: "read/matched", digits: 3},
						{header: "RCU/page", unit: "RCU/page", digits: 2},
						{header: "Query calls/page", unit: "calls/page", digits: 2},
					},
				},
				{
					title: "issue 13's workload through the services: a list page weighted over its list mix, and its writes (an update averaged over its kinds)",
					bench: "BenchmarkWorkloadCost", rows: []string{""}, first: "",
					cols: []column{
						{header: "list RCU/page", unit: "list-RCU/page", digits: 2},
						{header: "list calls/page", unit: "list-calls/page", digits: 2},
						{header: "list rounds/page", unit: "list-rounds/page", digits: 2},
						{header: "create WCU", unit: "create-WCU", digits: 2},
						{header: "comment WCU", unit: "comment-WCU", digits: 2},
						{header: "update WCU", unit: "update-WCU", digits: 2},
					},
				},
				{
					title: "one assigned ticket, indexes included",
					bench: "BenchmarkItemCost", rows: []string{""}, first: "",
					cols: []column{
						{header: "get RCU", unit: "get-RCU", digits: 1},
						{header: "create WCU", unit: "create-WCU", digits: 0},
						{header: "update WCU", unit: "update-WCU", digits: 0},
						{header: "delete WCU", unit: "delete-WCU", digits: 0},
						{header: "indexes", unit: "indexes", digits: 0},
					},
				},
				{
					title: "the events each kind of ticket write makes, recorded by the stream consumer (Dispatcher.HandleStream) from the table's real stream records in batches of 100: with no subscription, and what one subscription to every type adds",
					bench: "BenchmarkEventCost", rows: prefixed("write", "create", "comment", "update", "delete"), first: "write",
					cols: []column{
						{header: "stream records", unit: "records/write", digits: 0},
						{header: "events", unit: "events/write", digits: 3},
						{header: "WCU", unit: "WCU/write", digits: 2},
						{header: "RCU", unit: "RCU/write", digits: 2},
						{header: "calls/batch", unit: "calls/batch", digits: 1},
						{header: "ms/record", unit: "ms/record", digits: 2},
						{header: "+1 sub WCU", unit: "sub-WCU/write", digits: 2},
						{header: "+1 sub RCU", unit: "sub-RCU/write", digits: 2},
					},
				},
				{
					title: "one event recorded: its write units by where they fall, the consumer's read units, its body's size",
					bench: "BenchmarkEventCost", rows: []string{"event"}, first: "",
					cols: []column{
						{header: "WCU", unit: "WCU/event", digits: 2},
						{header: "table", unit: "table-WCU/event", digits: 2},
						{header: "feed index", unit: "feed-WCU/event", digits: 2},
						{header: "history index", unit: "history-WCU/event", digits: 2},
						{header: "RCU", unit: "RCU/event", digits: 2},
						{header: "body bytes", unit: "body-bytes", digits: 0},
						{header: "largest body", unit: "body-max-bytes", digits: 0},
						{header: "+1 sub WCU", unit: "sub-WCU/event", digits: 2},
					},
				},
				{
					title: "pages of 100: the whole feed (a merge of its shards), the feed filtered to a common type (ticket.comment.created), a rare one (ticket.assignment.changed) and to the busiest ticket, and that ticket's history",
					bench: "BenchmarkEventCost", rows: prefixed("page", "feed", "feed-type-common", "feed-type-rare", "feed-ticket", "history"), first: "list",
					cols: []column{
						{header: "returned", unit: "returned", digits: 0},
						{header: "RCU/page", unit: "RCU/page", digits: 2},
						{header: "round trips/page", unit: "calls/page", digits: 2},
						{header: "read ÷ returned", unit: "read/returned", digits: 3},
						{header: "worst full page", unit: "worst-read/returned", digits: 3},
					},
				},
				{
					title: "throttle point: a feed shard is one partition of the feed index, which takes about 1,000 WCU/s",
					bench: "BenchmarkEventCost", rows: []string{"throttle"}, first: "",
					cols: []column{
						{header: "feed WCU/event", unit: "feed-WCU/event", digits: 2},
						{header: "events/s a shard", unit: "shard-events/s", digits: 0},
						{header: "events/s, even shards", unit: "events/s", digits: 0},
						{header: "events/write", unit: "events/write", digits: 3},
						{header: "ticket writes/s", unit: "ticket-writes/s", digits: 0},
						{header: "largest shard's share", unit: "max-shard-share", digits: 3},
						{header: "events/s at that share", unit: "skewed-events/s", digits: 0},
						{header: "ticket writes/s at that share", unit: "skewed-ticket-writes/s", digits: 0},
					},
				},
			},
			notes: []string{
				"round trips per request: section 2 (an update also reads the ticket: 1 RCU); a cold API-key lookup adds one GetItem per key and function environment per minute",
				"events (BenchmarkEventCost): 1,000 writes on 250 tickets (100 in a smoke run) in the bench mix's write proportions, 5 creates : 8 comments : 6 updates : 1 delete, made through the services; what one subscription adds, from a fifth of them made twice, with and without it",
				"RCU: DynamoDB Local charges nothing for a key a BatchGetItem does not find, and the consumer's consistent idempotency check looks up each new event's key (and each delivery's) before recording it; DynamoDB charges a read unit for each",
				"a filter on type applies after the read: each shard Query reads its share of the page and keeps what matches, so a rare type reads much of the feed, up to a page's read budget (4 × page + 400 items), after which the page comes back short with hasMore",
				"the largest shard's share is this run's, where a few busy tickets, each wholly in one shard, carry much of the mix; many tickets' events spread about evenly",
			},
		},
		{
			title: "4. Load",
			tables: []tableSpec{{
				title: "wrk, 32 connections, mix 45 % GET ticket / 45 % list page / 10 % create; bare = the same mix of SDK calls from 32 goroutines on the stack's own DynamoDB Local, just before",
				bench: "BenchmarkLoad", rows: prefixed("stack", "local", "rie"), first: "stack",
				cols: []column{
					{header: "req/s", unit: "req/s", digits: 0},
					{header: "p50 ms", unit: "p50-ms", digits: 1},
					{header: "p99 ms", unit: "p99-ms", digits: 1},
					{header: "errors", unit: "errors", digits: 0, target: noErrors},
					{header: "bare req/s", unit: "bare-req/s", digits: 0},
					{header: "bare p50 ms", unit: "bare-p50-ms", digits: 1},
					{header: "bare p99 ms", unit: "bare-p99-ms", digits: 1},
					{header: "÷ bare req/s", unit: "x-bare", digits: 2},
				},
			}},
			notes: []string{"rie: each function is one emulator (one execution environment) taking one invocation at a time, where Lambda would start more"},
		},
		{
			title: "5. Webhook fan-out",
			tables: []tableSpec{{
				title: "a stream batch of 100 events to 3 subscriptions at 50 ms each, 16 workers: sequential bound 15 s, ideal 0.95 s",
				bench: "BenchmarkFanOut", rows: []string{""}, first: "",
				cols: []column{
					{header: "ms/batch", unit: "ms/batch", digits: 0},
					{header: "÷ sequential", unit: "x-sequential", digits: 3},
					{header: "÷ ideal", unit: "x-ideal", digits: 2},
					{header: "deliveries alone ÷ ideal", unit: "x-ideal-deliveries", digits: 3},
				},
			}},
			notes: []string{"the whole batch includes recording 100 events and 300 deliveries and logging 300 attempts in DynamoDB Local"},
		},
		{
			title: "6. Feed lag",
			tables: []tableSpec{{
				title: "a create through the local stack's HTTP API until its ticket.created is in the feed (ListEvents on the real clock, polled every 20 ms), creates at 10/s",
				bench: "BenchmarkFeedLag", rows: []string{""}, first: "",
				cols: []column{
					{header: "p50 ms", unit: "p50-ms", digits: 0},
					{header: "p99 ms", unit: "p99-ms", digits: 0},
					{header: "max ms", unit: "max-ms", digits: 0},
					{header: "samples", unit: "samples", digits: 0},
					{header: "settle window ms (the floor)", unit: "settle-ms", digits: 0},
					{header: "stream poll ms", unit: "stream-poll-ms", digits: 0},
				},
			}},
			notes: []string{
				"no target: the issue asks for the numbers",
				"the floor is the settle window (dynamo.FeedSettle): a reader lists only events that much older than its clock, and an event's time is taken just before its write, so a lag can fall short of the window by the create's own latency",
				"the stream poll interval does not add to the window: the consumer records an event within it, and the event then waits out the rest; the reader's own poll adds up to 20 ms",
			},
		},
	}
}
