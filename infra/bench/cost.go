package bench

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Prices are the list prices the cost estimate uses, in US dollars.
type Prices struct {
	Region string `json:"region"`
	// APIRequests is API Gateway's HTTP API price per million requests.
	APIRequests float64 `json:"apiGatewayHttpPerMillion"`
	// LambdaRequests is Lambda's price per million requests.
	LambdaRequests float64 `json:"lambdaRequestsPerMillion"`
	// LambdaGBSecond is Lambda's arm64 price per GB-second.
	LambdaGBSecond float64 `json:"lambdaArm64PerGBSecond"`
	// ReadUnits and WriteUnits are DynamoDB on-demand prices per million
	// read and write request units.
	ReadUnits  float64 `json:"dynamodbReadPerMillion"`
	WriteUnits float64 `json:"dynamodbWritePerMillion"`
	// MemoryMB is the functions' memory size.
	MemoryMB int `json:"lambdaMemoryMB"`
}

// DefaultPrices are us-east-1 list prices as known when this was written
// (first tiers); check the pricing pages before relying on them.
var DefaultPrices = Prices{
	Region: "us-east-1", APIRequests: 1.00, LambdaRequests: 0.20, LambdaGBSecond: 0.0000133334,
	ReadUnits: 0.125, WriteUnits: 0.625, MemoryMB: 128,
}

// MixEntry is one request kind's part of the mix.
type MixEntry struct {
	Op    string  `json:"op"`
	Share float64 `json:"share"`
}

// DefaultMix is 80 % reads and 20 % writes, with a helpdesk's
// conversations in it: a quarter of the reads page a conversation
// ("comments"), and two fifths of the writes add a comment ("comment");
// of the other writes a quarter are creates, three tenths updates and a
// twentieth deletes.
var DefaultMix = []MixEntry{
	{"list", 0.30}, {"get", 0.30}, {"comments", 0.20},
	{"create", 0.05}, {"comment", 0.08}, {"update", 0.06}, {"delete", 0.01},
}

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
}

// Part is one line of the bill.
type Part struct {
	Part    string  `json:"part"`
	Units   string  `json:"units"`
	Dollars float64 `json:"dollars"`
}

// Cost is the estimated cost of a million API requests at a mix.
type Cost struct {
	Prices Prices   `json:"prices"`
	Ops    []OpCost `json:"ops"`
	Parts  []Part   `json:"parts"`
	Total  float64  `json:"total"`
}

// estimateCost prices a million requests of mix from the measured
// durations (BenchmarkRequest p50-ms, calls/op) and capacities
// (BenchmarkItemCost; BenchmarkListCost's default page; BenchmarkCommentCost).
func estimateCost(results []Result, p Prices, mix []MixEntry) (*Cost, error) {
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
	const item, comment = "BenchmarkItemCost", "BenchmarkCommentCost"
	getRCU := get(item, "get-RCU")
	units := map[string][2]float64{ // read, write units per request
		"list":   {get("BenchmarkListCost/filters=none/sort=created_at/order=desc", "RCU/page"), 0},
		"get":    {getRCU, 0},
		"create": {0, get(item, "create-WCU")},
		"update": {getRCU, get(item, "update-WCU")},
		"delete": {0, get(item, "delete-WCU")},
		// A comment reads its ticket and writes it with the comment in one
		// transaction; a page of a conversation is a Query beside the
		// ticket's read.
		"comment":  {get(comment, "create-RCU"), get(comment, "create-WCU")},
		"comments": {get(comment, "page-RCU"), 0},
	}
	c := &Cost{Prices: p}
	var gbSeconds, rcu, wcu float64
	for _, m := range mix {
		name := "BenchmarkRequest/op=" + m.Op
		o := OpCost{MixEntry: m, LambdaMs: get(name, "p50-ms"), Calls: get(name, "calls/op"), RCU: units[m.Op][0], WCU: units[m.Op][1]}
		o.BilledMs = math.Ceil(o.LambdaMs)
		gbSeconds += m.Share * 1e6 * o.BilledMs / 1000 * float64(p.MemoryMB) / 1024
		rcu += m.Share * 1e6 * o.RCU
		wcu += m.Share * 1e6 * o.WCU
		c.Ops = append(c.Ops, o)
	}
	c.Parts = []Part{
		{"API Gateway HTTP API", "1 M requests", p.APIRequests},
		{"Lambda requests", "1 M", p.LambdaRequests},
		{fmt.Sprintf("Lambda compute, arm64 %d MB", p.MemoryMB), fmt.Sprintf("%.0f GB-s (billed ms at the measured medians)", gbSeconds), gbSeconds * p.LambdaGBSecond},
		{"DynamoDB reads (on demand)", fmt.Sprintf("%.2f M read units", rcu/1e6), rcu / 1e6 * p.ReadUnits},
		{"DynamoDB writes (on demand)", fmt.Sprintf("%.2f M write units", wcu/1e6), wcu / 1e6 * p.WriteUnits},
	}
	for _, pt := range c.Parts {
		c.Total += pt.Dollars
	}
	return c, firstErr
}

func (c *Cost) write(w io.Writer) {
	fmt.Fprintf(w, "\ncost per million API requests, mix 80 %% reads / 20 %% writes, comments included (%s list prices, %d MB)\n", c.Prices.Region, c.Prices.MemoryMB)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  request\tshare\tLambda p50 ms\tbilled ms\tround trips\tRCU\tWCU\t")
	for _, o := range c.Ops {
		fmt.Fprintf(tw, "  %s\t%.0f %%\t%.3f\t%.0f\t%.0f\t%.2f\t%.0f\t\n", o.Op, o.Share*100, o.LambdaMs, o.BilledMs, o.Calls, o.RCU, o.WCU)
	}
	_ = tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  part\tunits\tcost\t")
	for _, p := range c.Parts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", p.Part, p.Units, dollars(p.Dollars))
	}
	fmt.Fprintf(tw, "  total\t\t$%.2f\t\n", c.Total)
	_ = tw.Flush()
	fmt.Fprintf(w, "  prices: HTTP API $%.2f/M requests; Lambda $%.2f/M requests + $%.10g/GB-s (arm64); DynamoDB on demand $%.3f/M read units, $%.3f/M write units\n",
		c.Prices.APIRequests, c.Prices.LambdaRequests, c.Prices.LambdaGBSecond, c.Prices.ReadUnits, c.Prices.WriteUnits)
	fmt.Fprintln(w, "  durations: section 2's medians on this machine against DynamoDB Local, not on Lambda (where 128 MB gets about 1/14 of a vCPU)")
}

// dollars shows an amount in cents, or to a tenth of a cent below ten
// cents, so that a small part of the bill does not read as $0.00.
func dollars(v float64) string {
	if v < 0.10 {
		return fmt.Sprintf("$%.3f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}
