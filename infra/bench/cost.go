package bench

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/acme/helpdesk/internal/pricing"
)

// MixEntry is one request kind's part of the mix.
type MixEntry struct {
	Op    string  `json:"op"`
	Share float64 `json:"share"`
}

// DefaultMix is issue 13's workload (internal/dynamotest): 80 % reads
// and 20 % writes. Of the reads a quarter page a conversation
// ("comments"), a twentieth page the change feed ("events", an integration
// polling it), the rest list tickets or get one; of the writes a quarter
// are creates, two fifths comments and the rest updates (a third of them
// changing the status, a sixth the assignee).
var DefaultMix = []MixEntry{
	{"list", 0.28}, {"get", 0.28}, {"comments", 0.20}, {"events", 0.04},
	{"create", 0.05}, {"comment", 0.08}, {"update", 0.07},
}

// streamWrites are the requests of the mix that write the table's
// stream, and so make events the stream consumer records (whether or not
// anyone subscribes): BenchmarkEventCost measures each.
var streamWrites = map[string]bool{"create": true, "comment": true, "update": true, "delete": true}

// StreamBatchSize is how many stream records the dispatch function takes
// per invocation at most: the event source mapping's BatchSize
// (infra/stack).
const StreamBatchSize = 100

// OpCost is what one request of a kind uses.
type OpCost struct {
	MixEntry
	// LambdaMs is the measured median duration (section 2); BilledMs is
	// it rounded up to the millisecond, as Lambda bills.
	LambdaMs float64 `json:"lambdaMs"`
	BilledMs float64 `json:"billedMs"`
	RCU      float64 `json:"rcu"`
	WCU      float64 `json:"wcu"`
	Calls    float64 `json:"roundTrips"`
	// Stream is what the stream consumer spends on the request's writes:
	// zero for a request that writes nothing.
	Stream StreamCost `json:"stream"`
}

// StreamCost is what the stream consumer (the dispatch function) spends on
// one write: its stream records, and recording the events they make, with
// no subscription and what one subscription to every type adds (a
// delivery each event).
type StreamCost struct {
	// Records and Events are the stream records the write makes and the
	// events they cause.
	Records float64 `json:"records"`
	Events  float64 `json:"events"`
	// RCU, WCU and Ms are what the consumer spends recording the events,
	// with no subscription; Ms is its time against DynamoDB Local.
	RCU float64 `json:"rcu"`
	WCU float64 `json:"wcu"`
	Ms  float64 `json:"ms"`
	// SubRCU and SubWCU are what one subscription adds; MsWithSubscription
	// is the consumer's time with it, its deliveries included.
	SubRCU             float64 `json:"subscriptionRcu"`
	SubWCU             float64 `json:"subscriptionWcu"`
	MsWithSubscription float64 `json:"msWithOneSubscription"`
}

// Part is one line of the bill, without a subscription and with one.
type Part struct {
	Part    string  `json:"part"`
	Units   string  `json:"units"`
	Dollars float64 `json:"dollars"`
	// WithSubscription is the part with one subscription to every event
	// type, and SubUnits its units when they differ.
	WithSubscription float64 `json:"withOneSubscription"`
	SubUnits         string  `json:"subscriptionUnits,omitempty"`
}

// Cost is the estimated cost of a million API requests at a mix: Total
// with no webhook subscription (the API's requests and the stream
// consumer recording every change as events), TotalWithSubscription with
// one subscription to every event type.
type Cost struct {
	Prices                pricing.Prices `json:"prices"`
	Ops                   []OpCost       `json:"ops"`
	Parts                 []Part         `json:"parts"`
	Total                 float64        `json:"total"`
	TotalWithSubscription float64        `json:"totalWithOneSubscription"`
	// Requests is the part of Total the API's requests make, before the
	// stream consumer: what the estimate was before every change was
	// recorded.
	Requests float64 `json:"requests"`
	// QuietInvocations is the stream consumer's invocations per million
	// requests when every write is a batch of its own (a quiet desk); the
	// estimate counts full batches, a busy one.
	QuietInvocations float64 `json:"quietStreamInvocations"`
}

// estimateCost prices a million requests of mix from the measured
// durations (BenchmarkRequest p50-ms, calls/op) and capacities
// (BenchmarkWorkloadCost: the workload's list mix and writes;
// BenchmarkItemCost's get; BenchmarkCommentCost's conversation page),
// and what the stream consumer spends on each write (BenchmarkEventCost:
// recording its events, and what one subscription adds).
func estimateCost(results []Result, p pricing.Prices, mix []MixEntry) (*Cost, error) {
	median := func(name, unit string) (float64, error) {
		s, ok := Summarize(results, name, unit)
		if !ok {
			return 0, fmt.Errorf("%w: cost estimate: %s %s", ErrIncomplete, name, unit)
		}
		return s.Median, nil
	}
	var firstErr error
	get := func(name, unit string) float64 {
		v, err := median(name, unit)
		if firstErr == nil {
			firstErr = err
		}
		return v
	}
	const item, comment, event, workload = "BenchmarkItemCost", "BenchmarkCommentCost", "BenchmarkEventCost", "BenchmarkWorkloadCost"
	units := map[string][2]float64{ // read, write units per request
		"list":   {get(workload, "list-RCU/page"), 0},
		"get":    {get(item, "get-RCU"), 0},
		"create": {0, get(workload, "create-WCU")},
		"update": {get(workload, "update-RCU"), get(workload, "update-WCU")},
		// A comment reads its ticket and writes it with the comment in one
		// transaction; a page of a conversation is a Query beside the
		// ticket's read.
		"comment":  {get(workload, "comment-RCU"), get(workload, "comment-WCU")},
		"comments": {get(comment, "page-RCU"), 0},
		// A page of the change feed (GET /events, 100 events, its shards
		// merged).
		"events": {get(event+"/page=feed", "RCU/page"), 0},
	}
	c := &Cost{Prices: p}
	var gbSeconds, rcu, wcu float64
	var writes, records, streamGBs, withSubGBs, streamRCU, streamWCU, subRCU, subWCU float64
	gbs := func(ms float64) float64 { return ms / 1000 * float64(p.MemoryMB) / 1024 }
	for _, m := range mix {
		name := "BenchmarkRequest/op=" + m.Op
		o := OpCost{MixEntry: m, LambdaMs: get(name, "p50-ms"), Calls: get(name, "calls/op"), RCU: units[m.Op][0], WCU: units[m.Op][1]}
		o.BilledMs = math.Ceil(o.LambdaMs)
		if streamWrites[m.Op] {
			w := event + "/write=" + m.Op
			st := StreamCost{
				Records: get(w, "records/write"), Events: get(w, "events/write"),
				RCU: get(w, "RCU/write"), WCU: get(w, "WCU/write"), SubRCU: get(w, "sub-RCU/write"), SubWCU: get(w, "sub-WCU/write"),
			}
			st.Ms, st.MsWithSubscription = st.Records*get(w, "ms/record"), st.Records*get(w, "sub-ms/record")
			o.Stream = st
			writes += m.Share * 1e6
		}
		n := m.Share * 1e6 // requests of the kind per million
		gbSeconds += n * gbs(o.BilledMs)
		rcu += n * o.RCU
		wcu += n * o.WCU
		records += n * o.Stream.Records
		streamGBs += n * gbs(o.Stream.Ms)
		withSubGBs += n * gbs(o.Stream.MsWithSubscription)
		streamRCU += n * o.Stream.RCU
		streamWCU += n * o.Stream.WCU
		subRCU += n * o.Stream.SubRCU
		subWCU += n * o.Stream.SubWCU
		c.Ops = append(c.Ops, o)
	}
	// The consumer is invoked per batch of stream records: full batches
	// under load, a batch per write on a quiet desk (QuietInvocations).
	// Its compute is its measured time per record, billed per invocation
	// (a batch's rounding up to the millisecond is left out).
	invocations := math.Ceil(records / StreamBatchSize)
	c.QuietInvocations = writes
	same := func(part, units string, dollars float64) Part {
		return Part{Part: part, Units: units, Dollars: dollars, WithSubscription: dollars}
	}
	const apiParts = 5 // the API's requests; the stream consumer's after
	c.Parts = []Part{
		same("API Gateway HTTP API", "1 M requests", p.APIRequests),
		same("Lambda requests", "1 M", p.LambdaRequests),
		same(fmt.Sprintf("Lambda compute, arm64 %d MB", p.MemoryMB), fmt.Sprintf("%.0f GB-s (billed ms at the measured medians)", gbSeconds), gbSeconds*p.LambdaGBSecond),
		same("DynamoDB reads (on demand)", fmt.Sprintf("%.2f M read units", rcu/1e6), rcu/1e6*p.ReadUnits),
		same("DynamoDB writes (on demand)", fmt.Sprintf("%.2f M write units", wcu/1e6), wcu/1e6*p.WriteUnits),
		same("stream consumer: Lambda requests", fmt.Sprintf("%.0f invocations (%.2f M records in batches of %d)", invocations, records/1e6, StreamBatchSize), invocations/1e6*p.LambdaRequests),
		{
			Part: "stream consumer: Lambda compute", Units: fmt.Sprintf("%.1f GB-s (measured ms per record)", streamGBs), Dollars: streamGBs * p.LambdaGBSecond,
			SubUnits: fmt.Sprintf("%.1f GB-s", withSubGBs), WithSubscription: withSubGBs * p.LambdaGBSecond,
		},
		{
			Part: "stream consumer: DynamoDB reads", Units: fmt.Sprintf("%.3f M read units", streamRCU/1e6), Dollars: streamRCU / 1e6 * p.ReadUnits,
			SubUnits: fmt.Sprintf("%.3f M", (streamRCU+subRCU)/1e6), WithSubscription: (streamRCU + subRCU) / 1e6 * p.ReadUnits,
		},
		{
			Part: "stream consumer: DynamoDB writes", Units: fmt.Sprintf("%.2f M write units", streamWCU/1e6), Dollars: streamWCU / 1e6 * p.WriteUnits,
			SubUnits: fmt.Sprintf("%.2f M", (streamWCU+subWCU)/1e6), WithSubscription: (streamWCU + subWCU) / 1e6 * p.WriteUnits,
		},
	}
	for i, pt := range c.Parts {
		c.Total += pt.Dollars
		c.TotalWithSubscription += pt.WithSubscription
		if i < apiParts {
			c.Requests += pt.Dollars
		}
	}
	return c, firstErr
}

func (c *Cost) write(w io.Writer) {
	fmt.Fprintf(w, "\ncost per million API requests, mix 80 %% reads / 20 %% writes, comments included, every change recorded as events (%s list prices, %d MB)\n", c.Prices.Region, c.Prices.MemoryMB)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  request\tshare\tLambda p50 ms\tbilled ms\tround trips\tRCU\tWCU\tstream records\tevents\tconsumer RCU\tconsumer WCU\t+1 sub RCU\t+1 sub WCU\t")
	for _, o := range c.Ops {
		fmt.Fprintf(tw, "  %s\t%.0f %%\t%.3f\t%.0f\t%.0f\t%.2f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", o.Op, o.Share*100, o.LambdaMs, o.BilledMs, o.Calls, o.RCU, o.WCU,
			o.Stream.Records, o.Stream.Events, o.Stream.RCU, o.Stream.WCU, o.Stream.SubRCU, o.Stream.SubWCU)
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  part\tunits\tcost\twith one subscription\t")
	for _, p := range c.Parts {
		with := dollars(p.WithSubscription)
		if p.SubUnits != "" {
			with += " (" + p.SubUnits + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", p.Part, p.Units, dollars(p.Dollars), with)
	}
	fmt.Fprintf(tw, "  total\t\t$%.2f\t$%.2f\t\n", c.Total, c.TotalWithSubscription)
	_ = tw.Flush()
	fmt.Fprintf(w, "  the API's requests alone: $%.2f; the stream consumer's writes are the events' items (table, feed and history index), with a subscription also its deliveries (put and delete, with their due-index entry) and their log\n", c.Requests)
	fmt.Fprintf(w, "  prices: HTTP API $%.2f/M requests; Lambda $%.2f/M requests + $%.10g/GB-s (arm64); DynamoDB on demand $%.3f/M read units, $%.3f/M write units\n",
		c.Prices.APIRequests, c.Prices.LambdaRequests, c.Prices.LambdaGBSecond, c.Prices.ReadUnits, c.Prices.WriteUnits)
	fmt.Fprintln(w, "  durations: section 2's medians on this machine against DynamoDB Local, not on Lambda (where 128 MB gets about 1/14 of a vCPU); the stream consumer's, BenchmarkEventCost's time per record")
	fmt.Fprintf(w, "  the stream consumer is counted in full batches of %d records; a quiet desk, each write a batch of its own, would make %.0f invocations: %s more\n",
		StreamBatchSize, c.QuietInvocations, dollars((c.QuietInvocations-math.Ceil(c.QuietInvocations/StreamBatchSize))/1e6*c.Prices.LambdaRequests))
	fmt.Fprintln(w, "  the subscription's deliveries' own traffic (requests out of the account) is not in the estimate; nor are the scheduled retry function's invocations, which do not grow with requests")
}

// dollars shows an amount in cents, or to a tenth of a cent below ten
// cents, so that a small part of the bill does not read as $0.00.
func dollars(v float64) string {
	if v < 0.10 {
		return fmt.Sprintf("$%.3f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}
