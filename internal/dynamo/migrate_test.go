package dynamo_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// v1Table creates a table as the index plan v1 left it: today's indexes
// and the retired ones.
func v1Table(tb testing.TB) string {
	tb.Helper()
	d := dynamo.Table
	d.Indexes = append(slices.Clone(d.Indexes), dynamo.RetiredIndexes...)
	return dynamotest.NewTable(tb, d.CreateTableInput)
}

// toV1 gives every ticket of table the attributes only the v1 layout
// wrote, as a table written by v1 holds them, and returns how many
// tickets it changed.
func toV1(tb testing.TB, db *dynamodb.Client, table string) int {
	tb.Helper()
	ctx := tb.Context()
	var items []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start,
			FilterExpression:          aws.String("sk = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: "TICKET"}}})
		if err != nil {
			tb.Fatal(err)
		}
		items = append(items, out.Items...)
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(items); i += 8 {
				it := items[i]
				pr := it["priority"].(*types.AttributeValueMemberS).Value
				expr := "SET ix_priority = :p"
				values := map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pr}}
				if a, ok := it["assigneeId"].(*types.AttributeValueMemberS); ok {
					expr += ", ix_asg = :a, ix_asgp = :ap"
					values[":a"] = &types.AttributeValueMemberS{Value: a.Value}
					values[":ap"] = &types.AttributeValueMemberS{Value: a.Value + "#" + pr}
				}
				if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
					Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}, UpdateExpression: aws.String(expr), ExpressionAttributeValues: values}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return len(items)
}

// indexCount returns how many items index holds.
func indexCount(tb testing.TB, db *dynamodb.Client, table, index string) int {
	tb.Helper()
	n := 0
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(tb.Context(), &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String(index), Select: types.SelectCount, ExclusiveStartKey: start})
		if err != nil {
			tb.Fatal(err)
		}
		n += int(out.Count)
		if start = out.LastEvaluatedKey; start == nil {
			return n
		}
	}
}

// TestMigrateUnderLoad seeds issue 13's 10,000 tickets in the v1 layout
// (500 drawn from the same distributions unless HELPDESK_WORKLOAD_FULL=1,
// as make amplification sets: the full run takes three minutes, and
// leaves DynamoDB Local slower for the tests after it),
// migrates them while the API's services create, update and comment on
// tickets and list them, and then checks that nothing was lost: every
// write acknowledged during the migration is what the table holds, every
// ticket is in the v2 layout and out of the indexes it left, and every
// list class returns every ticket it should, in its documented order. A
// second run writes nothing.
func TestMigrateUnderLoad(t *testing.T) {
	db := dynamotest.Client(t)
	table := v1Table(t)
	s := dynamotest.StoreOn(t, db, table)
	w := dynamotest.NewWorkload(workloadSeed)
	size, _ := workloadSize()
	if size < 10000 {
		size = 500
	}
	dynamotest.SeedWorkload(t, s, w, size, false)
	phase := time.Now()
	if n := toV1(t, db, table); n != size {
		t.Fatalf("%d tickets to give the v1 layout, want %d", n, size)
	}
	if n := indexCount(t, db, table, "priority-created"); n != size {
		t.Fatalf("priority-created holds %d tickets before the migration, want %d", n, size)
	}

	t.Logf("v1 layout given in %s", time.Since(phase).Round(time.Millisecond))
	ctx := t.Context()
	svc, conv := helpdesk.NewService(s, s), helpdesk.NewConversations(s, s)
	ids := walk(t, s, helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Asc, PageSize: helpdesk.MaxPageSize})

	var mu sync.Mutex
	acked := map[string]*helpdesk.Ticket{}
	ack := func(tk *helpdesk.Ticket) {
		mu.Lock()
		defer mu.Unlock()
		if prev := acked[tk.ID]; prev == nil || prev.Version < tk.Version {
			acked[tk.ID] = tk
		}
	}
	stop := make(chan struct{})
	var load sync.WaitGroup
	loadErrs := make(chan error, 4)
	writes, lists := 0, 0
	for g := range 2 {
		rng := rand.New(rand.NewPCG(uint64(g), 99))
		load.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					mu.Lock()
					writes += n
					mu.Unlock()
					return
				default:
				}
				id := ids[rng.IntN(len(ids))]
				var err error
				switch n % 4 {
				case 0:
					var tk *helpdesk.Ticket
					if tk, err = svc.CreateTicket(ctx, w.Patch(), nil, nil); err == nil {
						ack(tk)
					}
				case 1:
					st := helpdesk.Statuses[rng.IntN(len(helpdesk.Statuses)-1)] // not closed: it takes comments
					pr := helpdesk.Priorities[rng.IntN(len(helpdesk.Priorities))]
					var tk *helpdesk.Ticket
					if tk, err = svc.UpdateTicket(ctx, id, &helpdesk.TicketPatch{Status: &st, Priority: &pr, AssigneeID: helpdesk.Set(dynamotest.Agent(rng.IntN(dynamotest.WorkloadAgents)))}, nil, helpdesk.Precondition{}); err == nil {
						ack(tk)
					}
				case 2:
					var tk *helpdesk.Ticket
					_, tk, err = conv.AddComment(ctx, id, w.CommentDraft(), nil, nil)
					if helpdesk.ErrorCode(err) == helpdesk.CodeConflict {
						err = nil // closed before the migration: no comment
					} else if err == nil {
						ack(tk)
					}
				default:
					ty := helpdesk.Types[rng.IntN(len(helpdesk.Types))]
					var tk *helpdesk.Ticket
					if tk, err = svc.UpdateTicket(ctx, id, &helpdesk.TicketPatch{Type: &ty}, nil, helpdesk.Precondition{}); err == nil {
						ack(tk)
					}
				}
				if err != nil {
					loadErrs <- fmt.Errorf("write %d: %w", n, err)
					return
				}
			}
		})
	}
	load.Go(func() {
		classes := dynamotest.ListMix()
		for n := 0; ; n++ {
			select {
			case <-stop:
				mu.Lock()
				lists += n
				mu.Unlock()
				return
			default:
			}
			cl := classes[n%len(classes)]
			if _, err := s.ListTickets(ctx, cl.Queries[n%len(cl.Queries)]); err != nil {
				loadErrs <- fmt.Errorf("list %s: %w", cl.Name, err)
				return
			}
		}
	})

	start := time.Now()
	stats, err := dynamo.Migrate(ctx, db, table, dynamo.MigrateOptions{Rate: 5000})
	took := time.Since(start)
	close(stop)
	load.Wait()
	close(loadErrs)
	for err := range loadErrs {
		t.Error(err)
	}
	if err != nil {
		t.Fatalf("Migrate: %v (%+v)", err, stats)
	}
	t.Logf("migrated in %s while the services made %d writes and %d list pages: %+v", took.Round(time.Millisecond), writes, lists, stats)
	if writes == 0 || lists == 0 {
		t.Fatalf("the load made %d writes and %d list pages during the migration: it proved nothing", writes, lists)
	}
	if stats.Tickets < size || stats.Rewritten == 0 {
		t.Errorf("the migration saw %d tickets and rewrote %d", stats.Tickets, stats.Rewritten)
	}

	for id, want := range acked {
		got, err := s.Ticket(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged ticket %s: %v", id, err)
		}
		if got.Version != want.Version || got.Status != want.Status || got.Priority != want.Priority || got.AssigneeID != want.AssigneeID || got.Type != want.Type || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("ticket %s: the table holds version %d (%s, %s, %s, %s), the API acknowledged version %d (%s, %s, %s, %s)", id,
				got.Version, got.Status, got.Priority, got.AssigneeID, got.Type, want.Version, want.Status, want.Priority, want.AssigneeID, want.Type)
		}
	}
	for _, ix := range []string{"priority-created", "priority-updated", "assignee-created", "assignee-updated", "assigneepriority-created"} {
		if n := indexCount(t, db, table, ix); n != 0 {
			t.Errorf("retired index %s still holds %d tickets", ix, n)
		}
	}
	again, err := dynamo.Migrate(ctx, db, table, dynamo.MigrateOptions{})
	if err != nil || again.Rewritten != 0 || again.Finished != 4 || again.Scanned != 0 {
		t.Errorf("a second run: %+v, %v; want every segment finished and nothing written", again, err)
	}
	phase = time.Now()
	checkLists(t, s)
	t.Logf("lists checked in %s", time.Since(phase).Round(time.Millisecond))
}

// checkLists walks every filter shape, sort and order (typical values: an
// open status, high priority, the busiest agent) in 100-item pages and
// compares each walk with the tickets the unfiltered walk finds, filtered
// and sorted in memory by the documented order.
func checkLists(t *testing.T, s *dynamo.Store) {
	t.Helper()
	var all []*helpdesk.Ticket
	q := helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Asc, PageSize: helpdesk.MaxPageSize}
	for {
		page, err := s.ListTickets(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Tickets...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	for _, q := range queries([]helpdesk.Status{"", helpdesk.StatusOpen}, []helpdesk.Priority{"", helpdesk.PriorityHigh}, []string{"", dynamotest.Agent(0)}, helpdesk.MaxPageSize) {
		var want []string
		for _, tk := range expectedOrder(all, q) {
			want = append(want, tk.ID)
		}
		got := walk(t, s, q)
		if !slices.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s/%s/%s: %d tickets, want %d; first difference at %d", describe(q), q.SortBy, q.Order, len(got), len(want), i)
		}
	}
}

// expectedOrder is the tickets q lists, in its order: the sort field,
// then createdAt, then id, all in the same direction.
func expectedOrder(all []*helpdesk.Ticket, q helpdesk.ListQuery) []*helpdesk.Ticket {
	f := q.Filter
	var out []*helpdesk.Ticket
	for _, tk := range all {
		if (f.Status == "" || tk.Status == f.Status) && (f.Priority == "" || tk.Priority == f.Priority) && (f.AssigneeID == "" || tk.AssigneeID == f.AssigneeID) {
			out = append(out, tk)
		}
	}
	slices.SortFunc(out, func(a, b *helpdesk.Ticket) int {
		c := 0
		switch q.SortBy {
		case helpdesk.SortUpdatedAt:
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case helpdesk.SortStatus:
			c = cmp.Compare(slices.Index(helpdesk.Statuses, a.Status), slices.Index(helpdesk.Statuses, b.Status))
		case helpdesk.SortPriority:
			c = cmp.Compare(slices.Index(helpdesk.Priorities, a.Priority), slices.Index(helpdesk.Priorities, b.Priority))
		}
		c = cmp.Or(c, a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		if q.Order == helpdesk.Desc {
			c = -c
		}
		return c
	})
	return out
}

// TestMigrateResumes stops a migration part way, as a crash would, and
// runs it again: the second run resumes the saved segments and finishes,
// every ticket ends in the layout, and a third run only confirms it.
// Throttling beyond the SDK's retries is waited out.
func TestMigrateResumes(t *testing.T) {
	table := v1Table(t)
	dynamotest.SeedWorkload(t, dynamotest.StoreOn(t, dynamotest.Client(t), table), dynamotest.NewWorkload(workloadSeed), 600, false)
	toV1(t, dynamotest.Client(t), table)
	db, faults := dynamotest.FaultyClient(t, 5*time.Second)

	// The first run stops, as a crash would, once every segment has saved
	// a page: stopping after a fixed time saved nothing on a slow machine,
	// and then there was nothing to resume.
	ctx, cancel := context.WithCancel(t.Context())
	saved := &segmentsSaved{want: 4, done: cancel, seen: map[int64]bool{}}
	first, err := dynamo.Migrate(ctx, db, table, dynamo.MigrateOptions{Rate: 200, PageSize: 10, Log: slog.New(saved)})
	if err == nil || first.Rewritten == 0 || first.Rewritten >= 600 {
		t.Fatalf("the interrupted run: %+v, %v; want some tickets rewritten, then the cancellation", first, err)
	}
	// More throttling than the SDK retries: the migration must wait it out.
	faults.Add(dynamotest.Rule{Op: "UpdateItem", Fault: dynamotest.Throttling, Times: 60})
	second, err := dynamo.Migrate(t.Context(), db, table, dynamo.MigrateOptions{Rate: 1000, PageSize: 10})
	faults.Clear()
	if err != nil {
		t.Fatalf("the resumed run: %v (%+v)", err, second)
	}
	// A rewrite in flight at the cancellation may have landed uncounted,
	// one per segment at most.
	if second.Resumed == 0 || second.Throttled == 0 || first.Rewritten+second.Rewritten > 600 || first.Rewritten+second.Rewritten < 596 {
		t.Errorf("runs rewrote %d + %d of 600 tickets; the second resumed %d segments and waited out %d throttled calls", first.Rewritten, second.Rewritten, second.Resumed, second.Throttled)
	}
	third, err := dynamo.Migrate(t.Context(), db, table, dynamo.MigrateOptions{})
	if err != nil || third.Finished != 4 || third.Rewritten != 0 {
		t.Errorf("a third run: %+v, %v; want every segment finished and nothing written", third, err)
	}
	for _, ix := range []string{"priority-created", "assignee-updated"} {
		if n := indexCount(t, dynamotest.Client(t), table, ix); n != 0 {
			t.Errorf("retired index %s still holds %d tickets", ix, n)
		}
	}
}

// segmentsSaved is a log handler that calls done once the migration has
// logged a saved page of want distinct segments.
type segmentsSaved struct {
	want int
	done func()
	mu   sync.Mutex
	seen map[int64]bool
}

func (h *segmentsSaved) Enabled(context.Context, slog.Level) bool { return true }

func (h *segmentsSaved) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "segment" {
			h.mu.Lock()
			h.seen[a.Value.Int64()] = true
			if len(h.seen) == h.want {
				h.done()
			}
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h *segmentsSaved) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *segmentsSaved) WithGroup(string) slog.Handler { return h }
