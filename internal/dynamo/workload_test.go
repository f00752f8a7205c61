package dynamo_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// workloadSeed fixes the workload's draws, so that runs are comparable.
const workloadSeed = 13

// workloadSize is how many tickets the workload tests seed: issue 13's
// 10,000 with HELPDESK_WORKLOAD_FULL=1 (make amplification), otherwise
// 1,000 drawn from the same distributions, so that go test stays quick.
// The full size caps each walk at fullWalkPages pages: an unfiltered walk
// of 10,000 tickets is 400 pages, and its pages cost the same as the first
// forty's.
func workloadSize() (tickets, maxPages int) {
	if os.Getenv("HELPDESK_WORKLOAD_FULL") == "1" {
		return 10000, fullWalkPages
	}
	return 1000, 0
}

const fullWalkPages = 40

// classCost is what walking one list class's queries cost.
type classCost struct {
	walks, pages, calls, rounds, returned, scanned int
	// lookAhead counts the pages that read one item past the page to set
	// Next: that item is the look-ahead the current plan always reads.
	lookAhead int
	rcu       float64
}

func (c classCost) readPerReturned() float64 { return float64(c.scanned) / float64(max(c.returned, 1)) }

// exact is read ÷ returned without the look-ahead items.
func (c classCost) exact() float64 {
	return float64(c.scanned-c.lookAhead) / float64(max(c.returned, 1))
}
func (c classCost) rcuPerPage() float64   { return c.rcu / float64(max(c.pages, 1)) }
func (c classCost) callsPerPage() float64 { return float64(c.calls) / float64(max(c.pages, 1)) }

// target is issue 13's bound on a class's read amplification, and whether
// the class meets it. The three hot classes must read nothing they do not
// return (the look-ahead item aside, which makes hasMore exact); every
// other class with at most one filter at most twice what it returns, a
// combined filter five times.
func target(cl dynamotest.ListClass, c classCost) (string, bool) {
	switch {
	case cl.Hot():
		return "1.0 (+look-ahead)", c.exact() <= 1
	case cl.Filters() <= 1:
		return "<= 2", c.readPerReturned() <= 2
	default:
		return "<= 5", c.readPerReturned() <= 5
	}
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// workloadLists seeds issue 13's workload (n tickets) and walks every list
// class of its mix in 25-item pages through the store's ListTickets, up to
// maxPages a walk when it is not 0, printing what each class reads
// against the index plan v2's targets when print is set (make
// amplification). It asserts what the plan promises: the three hot
// classes, and every page whose filters pin one index partition, read
// nothing they do not return but the look-ahead item; a class served by
// merging partitions with no filter expression meets its target. Classes
// the plan serves with a filter expression are printed PASS or MISS: they
// are the frontier docs/table-design.md explains. It returns the
// mix-weighted cost of a list page.
func workloadLists(t testing.TB, d dynamo.Design, n, maxPages int, print bool) listCost {
	s := dynamotest.StoreOn(t, dynamotest.Client(t), dynamotest.NewTable(t, d.CreateTableInput))
	start := time.Now()
	// Without comment items: they are in no index, so the lists read the
	// same entries, and they would take most of the seeding's time.
	dynamotest.SeedWorkload(t, s, dynamotest.NewWorkload(workloadSeed), n, false)
	seeded := time.Since(start)

	var tw *tabwriter.Writer
	if print {
		capped := "whole walks"
		if maxPages > 0 {
			capped = fmt.Sprintf("walks capped at %d pages", maxPages)
		}
		fmt.Printf("\nworkload read amplification: %d tickets (seed %d, seeded in %s), 25-item pages, %s; read = items DynamoDB read, exact = read without the look-ahead item of each page with a next\n",
			n, workloadSeed, seeded.Round(time.Second), capped)
		tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "class\tshare %\twalks\tpages\treturned\tread/returned\texact\tRCU/page\tcalls/page\trounds/page\tindex\tv2 target\t\t")
	}
	var weightedRCU, weightedCalls, weightedRounds float64
	misses := 0
	for _, cl := range dynamotest.ListMix() {
		var c classCost
		var index string
		filtered := false
		for _, q := range cl.Queries {
			c.walks++
			pages := walkClass(t, s, q, maxPages, func(p dynamo.PageStats, hasNext bool) {
				if index == "" {
					index = p.Index
				}
				c.pages++
				c.calls += p.Calls
				c.rounds += p.Rounds
				filtered = filtered || p.Filtered
				c.returned += p.Returned
				c.scanned += p.Scanned
				c.rcu += p.Capacity
				if hasNext {
					c.lookAhead++
				}
				if p.Partitions == 1 && !p.Filtered && (p.Scanned != p.Matched || p.Scanned > p.Returned+1) {
					t.Errorf("%s %+v: a page read %d items, matched %d, returned %d", cl.Name, q.Filter, p.Scanned, p.Matched, p.Returned)
				}
			})
			if pages == 0 {
				t.Fatalf("%s %+v: no page", cl.Name, q.Filter)
			}
		}
		weightedRCU += cl.Share / 100 * c.rcuPerPage()
		weightedCalls += cl.Share / 100 * c.callsPerPage()
		weightedRounds += cl.Share / 100 * float64(c.rounds) / float64(max(c.pages, 1))
		goal, ok := target(cl, c)
		if !ok {
			misses++
			if cl.Hot() || !filtered {
				t.Errorf("%s: read/returned %.3f (exact %.3f) misses its target %s with no filter expression to blame", cl.Name, c.readPerReturned(), c.exact(), goal)
			}
		}
		if tw != nil {
			fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%d\t%.3f\t%.3f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t\n", cl.Name, cl.Share, c.walks, c.pages, c.returned,
				c.readPerReturned(), c.exact(), c.rcuPerPage(), c.callsPerPage(), float64(c.rounds)/float64(max(c.pages, 1)), index, goal, verdict(ok))
		}
	}
	if tw != nil {
		_ = tw.Flush()
		fmt.Printf("mix-weighted per list page: %.3f RCU, %.3f calls in %.3f round trips; %d of %d classes miss their v2 target, each served with a filter expression\n",
			weightedRCU, weightedCalls, weightedRounds, misses, len(dynamotest.ListMix()))
	}
	return listCost{rcu: weightedRCU, calls: weightedCalls, rounds: weightedRounds, misses: misses}
}

// listCost is a list page's cost, weighted over the workload's list mix,
// and how many of the mix's classes miss their v2 target.
type listCost struct {
	rcu, calls, rounds float64
	misses             int
}

// walkClass walks q's pages through the store's ListTickets, up to
// maxPages when it is not 0, and hands each page's stats to observe with
// whether the page has a next. It returns the pages read.
func walkClass(tb testing.TB, s *dynamo.Store, q helpdesk.ListQuery, maxPages int, observe func(dynamo.PageStats, bool)) int {
	tb.Helper()
	var last dynamo.PageStats
	s.Observe = func(p dynamo.PageStats) { last = p }
	defer func() { s.Observe = nil }()
	for pages := 1; ; pages++ {
		page, err := s.ListTickets(tb.Context(), q)
		if err != nil {
			tb.Fatalf("page %d of %+v: %v", pages, q, err)
		}
		observe(last, page.Next != "")
		if page.Next == "" || pages == maxPages {
			return pages
		}
		q.After = page.Next
	}
}

// writeTarget is issue 13's bound on the write units of a ticket-changing
// request, averaged over the workload's write mix.
const writeTarget = 7

// writeCost is what the requests of one kind of write consumed.
type writeCost struct {
	requests    int
	wcu, rcu    float64
	calls       int
	transaction bool // some request wrote with TransactWriteItems
}

func (c writeCost) per(v float64) float64 { return v / float64(c.requests) }

// writeKind is a kind of write and one request of it.
type writeKind struct {
	kind  dynamotest.WriteKind
	write func() error
}

// writesPerKind is how many requests of each kind are measured: enough
// for the mix of assigned and unassigned tickets, priorities and statuses
// to show in the averages.
const writesPerKind = 20

// workloadWrites makes each kind of ticket-changing request through the
// services (helpdesk.Service and helpdesk.Conversations on a metered
// client) on tickets of the workload and returns what each consumed; with
// print set it prints each kind's write and read units and whether it is a
// transaction, and the average over the write mix against the v2 target,
// PASS or MISS (make amplification). It asserts that every kind writes,
// and that a comment, a deletion and a restore are each one transaction.
func workloadWrites(t testing.TB, d dynamo.Design, print bool) map[dynamotest.WriteKind]writeCost {
	table := dynamotest.NewTable(t, d.CreateTableInput)
	plain := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	w := dynamotest.NewWorkload(workloadSeed)
	// Tickets to change, with their comments: enough for each kind's
	// requests to fall on tickets of their own.
	tickets := dynamotest.SeedWorkload(t, plain, w, 6*writesPerKind, true)
	meter := dynamotest.NewMetered(dynamotest.Client(t))
	s := dynamotest.StoreOn(t, meter, table)
	svc := helpdesk.NewService(s, s)
	conv := helpdesk.NewConversations(s, s)
	trash := helpdesk.NewTrash(s)
	ctx := helpdesk.WithActor(t.Context(), helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_workload", Name: "support portal"})
	rng := w.Rand()

	// pick returns a ticket not picked before, as it is stored now (read
	// through the unmetered store), that accept takes.
	picked := map[string]bool{}
	pick := func(accept func(*helpdesk.Ticket) bool) *helpdesk.Ticket {
		t.Helper()
		for _, i := range rng.Perm(len(tickets)) {
			id := tickets[i].ID
			if picked[id] {
				continue
			}
			tk, err := plain.Ticket(t.Context(), id)
			if err != nil {
				t.Fatalf("Ticket(%s): %v", id, err)
			}
			if accept(tk) {
				picked[id] = true
				return tk
			}
		}
		t.Fatal("no ticket left to change")
		return nil
	}
	anyTicket := func(*helpdesk.Ticket) bool { return true }
	notClosed := func(tk *helpdesk.Ticket) bool { return tk.Status != helpdesk.StatusClosed }
	update := func(id string, p *helpdesk.TicketPatch) error {
		_, err := svc.UpdateTicket(ctx, id, p, nil, helpdesk.Precondition{})
		return err
	}
	kinds := []writeKind{
		{dynamotest.WriteCreate, func() error {
			_, err := svc.CreateTicket(ctx, w.Patch(), nil, nil)
			return err
		}},
		{dynamotest.WriteComment, func() error {
			// A closed ticket takes no comments.
			_, _, err := conv.AddComment(ctx, pick(notClosed).ID, w.CommentDraft(), nil, nil)
			return err
		}},
		{dynamotest.WriteStatus, func() error {
			tk := pick(anyTicket)
			st := otherValue(rng, helpdesk.Statuses, tk.Status)
			return update(tk.ID, &helpdesk.TicketPatch{Status: &st})
		}},
		{dynamotest.WriteAssignment, func() error {
			tk := pick(anyTicket)
			return update(tk.ID, &helpdesk.TicketPatch{AssigneeID: helpdesk.Set(otherValue(rng, dynamotest.Agents(), tk.AssigneeID))})
		}},
		{dynamotest.WriteOtherUpdate, func() error {
			// The other fields in turn: the priority (an index key),
			// the tags and the type (in no index).
			tk := pick(anyTicket)
			switch rng.IntN(3) {
			case 0:
				pr := otherValue(rng, helpdesk.Priorities, tk.Priority)
				return update(tk.ID, &helpdesk.TicketPatch{Priority: &pr})
			case 1:
				tags := append(slices.Clone(tk.Tags), fmt.Sprintf("followup-%d", rng.IntN(1000)))
				return update(tk.ID, &helpdesk.TicketPatch{Tags: &tags})
			default:
				ty := otherValue(rng, helpdesk.Types, tk.Type)
				return update(tk.ID, &helpdesk.TicketPatch{Type: &ty})
			}
		}},
		{dynamotest.WriteDelete, func() error {
			return svc.DeleteTicket(ctx, pick(anyTicket).ID, helpdesk.Precondition{})
		}},
	}
	// The trash's writes come after the others, on tickets of their own,
	// so that the others' picks stay those of issue 13's measurements.
	trashKinds := func() []writeKind {
		// Tickets deleted before the metering, for the restores and the
		// purges.
		var trashed []string
		for _, tk := range dynamotest.SeedWorkload(t, plain, w, 2*writesPerKind, true) {
			if err := helpdesk.NewService(plain, plain).DeleteTicket(ctx, tk.ID, helpdesk.Precondition{}); err != nil {
				t.Fatal(err)
			}
			trashed = append(trashed, tk.ID)
		}
		next := func() string {
			id := trashed[0]
			trashed = trashed[1:]
			return id
		}
		return []writeKind{
			{dynamotest.WriteRestore, func() error {
				_, err := trash.RestoreTicket(ctx, next())
				return err
			}},
			{dynamotest.WritePurge, func() error { return trash.PurgeTicket(ctx, next()) }},
		}
	}
	costs := map[dynamotest.WriteKind]writeCost{}
	measure := func(kinds []writeKind) {
		for _, k := range kinds {
			var c writeCost
			for range writesPerKind {
				meter.Take()
				if err := k.write(); err != nil {
					t.Fatalf("%s: %v", k.kind, err)
				}
				u := meter.Take()
				c.requests++
				c.wcu, c.rcu, c.calls = c.wcu+u.WCU, c.rcu+u.RCU, c.calls+u.RoundTrips()
				c.transaction = c.transaction || u.Calls["TransactWriteItems"] > 0
			}
			if c.wcu < float64(c.requests) {
				t.Errorf("%s: %.1f WCU over %d requests; every request writes at least an item", k.kind, c.wcu, c.requests)
			}
			costs[k.kind] = c
		}
	}
	measure(kinds)
	kinds = append(kinds, trashKinds()...)
	measure(kinds[len(kinds)-2:])
	for _, k := range []dynamotest.WriteKind{dynamotest.WriteComment, dynamotest.WriteDelete, dynamotest.WriteRestore} {
		if !costs[k].transaction {
			t.Errorf("%s wrote without a transaction; its items must be written together", k)
		}
	}

	share := map[dynamotest.WriteKind]float64{}
	var mixWCU, mixRCU, total float64
	for _, m := range dynamotest.WriteMix {
		share[m.Value] = m.Share
		c := costs[m.Value]
		mixWCU += m.Share * c.per(c.wcu)
		mixRCU += m.Share * c.per(c.rcu)
		total += m.Share
	}
	mixWCU, mixRCU = mixWCU/total, mixRCU/total
	if print {
		fmt.Printf("\nworkload write cost: %d requests of each kind through the services, on %d seeded tickets with their comments (seed %d)\n", writesPerKind, len(tickets), workloadSeed)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "write\tshare %\tWCU/request\tRCU/request\tcalls/request\ttransaction\t")
		for _, k := range kinds {
			c := costs[k.kind]
			tx := "no"
			if c.transaction {
				tx = "yes"
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", k.kind, share[k.kind], c.per(c.wcu), c.per(c.rcu), float64(c.calls)/float64(c.requests), tx)
		}
		_ = tw.Flush()
		fmt.Printf("write-mix average (the trash's writes are not in the mix): %.2f WCU, %.2f RCU per ticket-changing request; v2 target <= %d WCU: %s\n", mixWCU, mixRCU, writeTarget, verdict(mixWCU <= writeTarget))
		fmt.Println("  not included: the stream consumer's recording of each write's events (TestEventCost), which comes on top: in the bill below")
	}
	return costs
}

// otherValue returns a value of values other than cur.
func otherValue[T comparable](rng *rand.Rand, values []T, cur T) T {
	for {
		if v := values[rng.IntN(len(values))]; v != cur {
			return v
		}
	}
}
