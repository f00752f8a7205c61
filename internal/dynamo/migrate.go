package dynamo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Migration is the name of the layout change Migrate makes, and the
// partition its progress is kept in.
const Migration = "index-plan-v2"

// retiredAttrs are the ticket attributes only RetiredIndexes have as keys.
var retiredAttrs = []string{attrPriority, attrAssignee, attrAssigneePrio}

// ticketIndexAttrs are the index key attributes the current layout derives
// from a ticket.
var ticketIndexAttrs = []string{attrKind, attrCreated, attrUpdated, attrStatus, attrStatusPriority, attrAssigneeStatus}

// MigrateOptions tunes Migrate.
type MigrateOptions struct {
	// Segments is how many parts of the table are scanned at once; a run
	// resumed after a crash must use the same number. Default 4.
	Segments int
	// Rate bounds the items rewritten per second, over all segments, so
	// that the migration leaves the table's capacity to the API. Default
	// 100.
	Rate float64
	// PageSize is how many items a scanned page holds; progress is saved
	// after each. Default 100.
	PageSize int
	// Log receives progress, one line per scanned page; none when nil.
	Log *slog.Logger
}

// MigrateStats is what a run of Migrate did.
type MigrateStats struct {
	Scanned   int // items read
	Tickets   int // ticket items among them
	Rewritten int // tickets brought to the current layout
	// Raced counts rewrites that lost to a concurrent write of the ticket
	// and were read and tried again: the write won, and the ticket it
	// left was then brought to the layout or already was.
	Raced int
	// Throttled counts calls DynamoDB throttled (or failed in another
	// transient way, as translate tells) beyond the SDK's retries, each
	// waited out and repeated.
	Throttled int
	// Resumed counts segments that started from a saved position, and
	// Finished the segments that were complete before this run began.
	Resumed, Finished int
}

// Migrate brings every ticket item of table to the current index layout in place:
// it sets the index key attributes the item's fields give, where they
// differ, and removes the attributes only RetiredIndexes use, so that the
// tickets leave those indexes before the indexes are dropped. Each
// rewrite is conditional on the ticket's version as read, so a concurrent
// write of the API is never undone: the ticket is read again and, if the
// write left it in the old layout, rewritten. A ticket already in the
// layout is not written at all, so a second run writes nothing.
//
// Progress is saved in the table after every scanned page, per segment
// (pk MIGRATION#index-plan-v2); a run after a crash resumes there, and a
// run after a finished one only confirms it. Throttling that outlasts the
// SDK's retries is waited out with growing pauses; Rate bounds the writes.
// The rewrites change no field the API shows, so the stream consumer
// records no event for them.
func Migrate(ctx context.Context, db MigrateAPI, table string, opts MigrateOptions) (MigrateStats, error) {
	if opts.Segments <= 0 {
		opts.Segments = 4
	}
	if opts.Rate <= 0 {
		opts.Rate = 100
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	m := &migration{db: db, table: table, opts: opts, pace: newPacer(opts.Rate)}
	var wg sync.WaitGroup
	errs := make([]error, opts.Segments)
	for seg := range opts.Segments {
		wg.Go(func() { errs[seg] = m.segment(ctx, seg) })
	}
	wg.Wait()
	return m.stats, errors.Join(errs...)
}

// MigrateAPI is the DynamoDB API a migration uses: the store's, and Scan,
// which nothing that serves the API may call.
type MigrateAPI interface {
	API
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ MigrateAPI = (*dynamodb.Client)(nil)

type migration struct {
	db    MigrateAPI
	table string
	opts  MigrateOptions
	pace  *pacer

	mu    sync.Mutex
	stats MigrateStats
}

func (m *migration) count(f func(*MigrateStats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.stats)
}

// progressKey is the key of the item holding segment seg's progress.
func (m *migration) progressKey(seg int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "MIGRATION#" + Migration},
		attrSK: &types.AttributeValueMemberS{Value: fmt.Sprintf("SEGMENT#%d/%d", seg, m.opts.Segments)},
	}
}

// progress is a segment's saved position: the scan's next start key, or
// done.
type progress struct {
	Next map[string]string `dynamodbav:"next"`
	Done bool              `dynamodbav:"done"`
}

func (m *migration) segment(ctx context.Context, seg int) error {
	var p progress
	out, err := retryThrottled(ctx, m, func() (*dynamodb.GetItemOutput, error) {
		return m.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.table), Key: m.progressKey(seg), ConsistentRead: aws.Bool(true)})
	})
	if err != nil {
		return fmt.Errorf("migrate segment %d: read progress: %w", seg, err)
	}
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &p); err != nil {
			return fmt.Errorf("migrate segment %d: progress: %w", seg, err)
		}
		if p.Done {
			m.count(func(s *MigrateStats) { s.Finished++ })
			return nil
		}
		m.count(func(s *MigrateStats) { s.Resumed++ })
	}
	start := keyAttrs(p.Next)
	for {
		page, err := retryThrottled(ctx, m, func() (*dynamodb.ScanOutput, error) {
			return m.db.Scan(ctx, &dynamodb.ScanInput{
				TableName: aws.String(m.table), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(m.opts.Segments)),
				ExclusiveStartKey: start, Limit: aws.Int32(int32(m.opts.PageSize)),
			})
		})
		if err != nil {
			return fmt.Errorf("migrate segment %d: scan: %w", seg, err)
		}
		for _, item := range page.Items {
			if err := m.item(ctx, item); err != nil {
				return fmt.Errorf("migrate segment %d: %w", seg, err)
			}
		}
		m.count(func(s *MigrateStats) { s.Scanned += len(page.Items) })
		start = page.LastEvaluatedKey
		if err := m.save(ctx, seg, start); err != nil {
			return err
		}
		if m.opts.Log != nil {
			m.opts.Log.InfoContext(ctx, "migrate: page done", slog.Int("segment", seg), slog.Int("items", len(page.Items)), slog.Bool("segment_done", start == nil))
		}
		if start == nil {
			return nil
		}
	}
}

// save records that segment seg has been migrated up to next (nil: all).
func (m *migration) save(ctx context.Context, seg int, next map[string]types.AttributeValue) error {
	p := progress{Done: next == nil, Next: map[string]string{}}
	for k, v := range next {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return fmt.Errorf("migrate segment %d: scan position attribute %s is not a string", seg, k)
		}
		p.Next[k] = sv.Value
	}
	item, err := attributevalue.MarshalMap(p)
	if err != nil {
		return fmt.Errorf("migrate segment %d: encode progress: %w", seg, err)
	}
	maps.Copy(item, m.progressKey(seg))
	_, err = retryThrottled(ctx, m, func() (*dynamodb.PutItemOutput, error) {
		return m.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(m.table), Item: item})
	})
	if err != nil {
		return fmt.Errorf("migrate segment %d: save progress: %w", seg, err)
	}
	return nil
}

// item brings one scanned item to the layout if it is a ticket that is
// not; a rewrite that loses to a concurrent write reads the ticket again.
func (m *migration) item(ctx context.Context, item map[string]types.AttributeValue) error {
	if !isTicketItem(item) {
		return nil
	}
	m.count(func(s *MigrateStats) { s.Tickets++ })
	for range 5 {
		in, err := m.rewrite(item)
		if in == nil || err != nil {
			return err
		}
		if err := m.pace.wait(ctx); err != nil {
			return err
		}
		_, err = retryThrottled(ctx, m, func() (*dynamodb.UpdateItemOutput, error) { return m.db.UpdateItem(ctx, in) })
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			m.count(func(s *MigrateStats) { s.Rewritten++ })
			return nil
		case !errors.As(err, &ccf):
			return fmt.Errorf("rewrite %s: %w", keyString(item), err)
		}
		m.count(func(s *MigrateStats) { s.Raced++ })
		got, err := retryThrottled(ctx, m, func() (*dynamodb.GetItemOutput, error) {
			return m.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.table), Key: in.Key, ConsistentRead: aws.Bool(true)})
		})
		if err != nil {
			return fmt.Errorf("read %s again: %w", keyString(item), err)
		}
		if got.Item == nil {
			return nil // deleted meanwhile
		}
		item = got.Item
	}
	return fmt.Errorf("rewrite %s: it kept changing under five attempts", keyString(item))
}

// rewrite returns the update that brings a ticket item to the layout, or
// nil when it is in it.
func (m *migration) rewrite(item map[string]types.AttributeValue) (*dynamodb.UpdateItemInput, error) {
	t, err := unmarshalTicket(item)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyString(item), err)
	}
	want, err := marshalTicket(t)
	if err != nil {
		return nil, err
	}
	names := map[string]string{"#ver": "ver"}
	values := map[string]types.AttributeValue{":ver": item["ver"]}
	var set, remove []string
	for _, a := range ticketIndexAttrs {
		w, has := want[a]
		cur, had := item[a]
		n := fmt.Sprintf("#a%d", len(names))
		switch {
		case has && (!had || !equalS(w, cur)):
			names[n] = a
			values[":"+n[1:]] = w
			set = append(set, n+" = :"+n[1:])
		case !has && had:
			names[n] = a
			remove = append(remove, n)
		}
	}
	for _, a := range retiredAttrs {
		if _, had := item[a]; had {
			n := fmt.Sprintf("#a%d", len(names))
			names[n] = a
			remove = append(remove, n)
		}
	}
	if len(set)+len(remove) == 0 {
		return nil, nil
	}
	var expr []string
	if len(set) > 0 {
		expr = append(expr, "SET "+strings.Join(set, ", "))
	}
	if len(remove) > 0 {
		expr = append(expr, "REMOVE "+strings.Join(remove, ", "))
	}
	return &dynamodb.UpdateItemInput{
		TableName:                 aws.String(m.table),
		Key:                       map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		UpdateExpression:          aws.String(strings.Join(expr, " ")),
		ConditionExpression:       aws.String("#ver = :ver"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, nil
}

func equalS(a, b types.AttributeValue) bool {
	as, ok1 := a.(*types.AttributeValueMemberS)
	bs, ok2 := b.(*types.AttributeValueMemberS)
	return ok1 && ok2 && as.Value == bs.Value
}

func isTicketItem(item map[string]types.AttributeValue) bool {
	pk, ok1 := item[attrPK].(*types.AttributeValueMemberS)
	sk, ok2 := item[attrSK].(*types.AttributeValueMemberS)
	return ok1 && ok2 && strings.HasPrefix(pk.Value, TicketKeyPrefix) && sk.Value == kindTicket
}

func keyString(item map[string]types.AttributeValue) string {
	pk, _ := item[attrPK].(*types.AttributeValueMemberS)
	if pk == nil {
		return "an item without a key"
	}
	return pk.Value
}

// retryThrottled calls f until it succeeds, fails for a reason that is not
// transient (store.go's transient: throttling, DynamoDB's 5xx, a timed-out
// attempt), or ctx ends; what the SDK's own retries did not cure is waited
// out with pauses that grow from 100 ms to 5 s. Every call it repeats is
// safe to repeat: reads, the progress put, and rewrites conditional on a
// version they do not change.
func retryThrottled[T any](ctx context.Context, m *migration, f func() (T, error)) (T, error) {
	pause := 100 * time.Millisecond
	for {
		out, err := f()
		if err == nil || !transient(err) {
			return out, err
		}
		m.count(func(s *MigrateStats) { s.Throttled++ })
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// pacer spaces calls out to a rate shared by every goroutine that waits
// on it.
type pacer struct {
	mu       sync.Mutex
	next     time.Time
	interval time.Duration
}

func newPacer(perSecond float64) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / perSecond)}
}

// wait returns when the caller may make its call, or when ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(at.Sub(now)):
		return nil
	}
}
