package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// The activity record is the event items the stream consumer writes (see
// RecordEvents), read in two orders by two indexes: the feed, across all
// tickets, and each ticket's history. Both sort on an event's position,
// "<unix ms>#<order>#<id>": when it happened (but see writeEvents), then
// its place among its ticket's events, then its id, so that positions are
// unique and fixed width up to the id.
const (
	attrFeed   = "ix_feed" // "FEED#<shard>"
	attrPos    = "ix_pos"  // the position
	attrTicket = "ix_tkt"  // the ticket the event is about
	feedPrefix = "FEED#"
)

// FeedShards is how many partitions the feed's index spreads over. An
// index partition takes about 1,000 write units a second; an event's index
// copy is two units (a body is about 1 KB) and a ticket write makes 1.07
// events in the bench mix, so one partition would throttle near 490 ticket
// writes a second (make amplification; docs/activity.md). Four take the
// 1,000 a second the product is built for, with room for busy tickets,
// which sit wholly in one shard; a page of the feed merges the four.
const FeedShards = 4

var _ helpdesk.EventStore = (*Store)(nil)

var (
	feedIndex    = Index{"feed", attrFeed, attrPos}
	historyIndex = Index{"history", attrTicket, attrPos}
)

// The settle window. The feed and histories are read from indexes, which
// DynamoDB fills a moment after each write, and events of different
// tickets are recorded by concurrent consumers. A reader therefore lists
// only positions at least FeedSettle old; a consumer gives each event a
// position no older than lateAfter before its write starts, and gives up a
// write (for the stream to deliver the records again, with new positions)
// that has not landed within writeBudget. FeedSettle − lateAfter −
// writeBudget is left for the indexes to catch up and the clocks to
// disagree. So a position a reader has passed never receives an event
// later: a consumer that resumes from a cursor misses nothing.
const (
	FeedSettle  = 5 * time.Second
	lateAfter   = 2 * time.Second
	writeBudget = 2 * time.Second
)

var (
	errGone       = helpdesk.Errorf(helpdesk.CodeGone, "This cursor is older than the %d days the feed holds; start over without \"after\".", int(helpdesk.FeedWindow/(24*time.Hour)))
	errNoHistory  = helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found; a deleted ticket's history is kept while it is in the trash (%d days).", int(helpdesk.TrashRetention/(24*time.Hour)))
	errLateWrite  = errors.New("events written after the settle budget; a feed reader may have passed their positions")
	errLateRecord = errors.New("events not written within the settle budget; the stream will deliver them again")
)

func feedShard(ticketID string) string {
	h := fnv.New32a()
	h.Write([]byte(ticketID))
	return feedPrefix + strconv.Itoa(int(h.Sum32()%FeedShards))
}

// boundary is the position text of the first millisecond at or after t:
// every position of an earlier millisecond sorts before it, every other
// after it.
func boundary(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

func eventPosition(at time.Time, e *helpdesk.StoredEvent) string {
	return boundary(at) + "#" + e.Order + "#" + e.ID
}

func marshalEvent(e *helpdesk.StoredEvent, at time.Time) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(eventItem{
		PK: kindEvent + "#" + e.ID, SK: kindEvent, ID: e.ID, Type: e.Type, Packed: pack(e.Body),
		CreatedAt: formatTime(e.CreatedAt), TicketID: e.TicketID, Order: e.Order,
		Feed: feedShard(e.TicketID), Pos: eventPosition(at, e),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal event %s: %w", e.ID, err)
	}
	return item, nil
}

// writeEvents puts new events, given in stream order, with their
// positions, 25 a call. A position's time is when the event happened, or
// lateAfter before the call starts if that is later (an event recorded
// late goes where readers have not yet been, out of order with other
// tickets' events rather than lost), and never before the position of an
// earlier event of the same ticket. A call whose items are not all written
// within writeBudget fails the write: what was written keeps its
// positions, and the stream delivers the rest again.
func (s *Store) writeEvents(ctx context.Context, evs []*helpdesk.StoredEvent) error {
	last := map[string]time.Time{}
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), 25)]
		evs = evs[len(chunk):]
		start := s.now()
		reqs := make([]types.WriteRequest, len(chunk))
		for i, e := range chunk {
			at := helpdesk.Latest(e.CreatedAt, start.Add(-lateAfter), last[e.TicketID]).Truncate(time.Millisecond)
			last[e.TicketID] = at
			item, err := marshalEvent(e, at)
			if err != nil {
				return err
			}
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
		}
		if err := s.putEvents(ctx, start, reqs); err != nil {
			return err
		}
		if s.now().Sub(start) > writeBudget {
			return errLateWrite
		}
	}
	return nil
}

// putEvents writes one call's events, retrying what DynamoDB leaves
// unprocessed, within writeBudget of start. The SDK's own attempts are
// bounded too: one that timed out is retried after its attempt timeout,
// and a retry that landed after the budget could land behind a reader
// (the stream's delivery again would find the events recorded and leave
// them there).
func (s *Store) putEvents(ctx context.Context, start time.Time, reqs []types.WriteRequest) error {
	ctx, cancel := context.WithTimeout(ctx, writeBudget)
	defer cancel()
	req := map[string][]types.WriteRequest{s.table: reqs}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if s.now().Sub(start) > writeBudget {
				return errLateRecord
			}
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		if err != nil {
			return translate(err, "record events")
		}
		req = out.UnprocessedItems
	}
	return nil
}

// eventBinding is what a page of events is bound to: the list and its
// filters.
func eventBinding(q helpdesk.EventQuery) string {
	list := "feed"
	if q.History {
		list = "history"
	}
	types := slices.Sorted(slices.Values(q.Types))
	return strings.Join([]string{"events/v1", list, q.TicketID, strings.Join(types, ",")}, "\x00")
}

// validPosition reports whether s can be a position or a boundary.
func validPosition(s string) bool {
	if len(s) < 13 || len(s) > 200 {
		return false
	}
	for _, c := range []byte(s[:13]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) == 13 || s[13] == '#'
}

// ListEvents implements helpdesk.EventStore. The history of a ticket is
// one Query of the history index (and, at the same time, a read of the
// ticket and its tombstone); the feed filtered to a ticket is the same
// Query; the whole feed merges one Query per shard of the feed index.
// Every read stops FeedSettle before now.
func (s *Store) ListEvents(ctx context.Context, q helpdesk.EventQuery) (*helpdesk.EventPage, error) {
	now := s.now()
	horizon := boundary(now.Add(-FeedSettle))
	after := ""
	if !q.History {
		after = boundary(now.Add(-helpdesk.FeedWindow))
	}
	if q.After != "" {
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := codec.Open(eventBinding(q), q.After)
		if err != nil || !validPosition(string(state)) {
			return nil, errBadCursor
		}
		if string(state) < after {
			return nil, errGone
		}
		after = string(state)
	}
	// Every position after `after` sorts at or above after+"!": positions
	// are fixed width up to the id, and "!" sorts below every character
	// they hold.
	lo, want := after+"!", q.PageSize+1
	// A cursor at or past the horizon (a poll again within the
	// millisecond, or a cursor from a reader whose clock runs ahead) has
	// nothing to read yet, and DynamoDB refuses a BETWEEN whose bounds are
	// reversed.
	ahead := lo > horizon
	var items []map[string]types.AttributeValue
	var stop string
	var err error
	switch {
	case q.TicketID != "":
		var existsErr error
		var wg sync.WaitGroup
		if q.History {
			wg.Go(func() { existsErr = s.historyKept(ctx, q.TicketID, now) })
		}
		if !ahead {
			in := s.eventQuery(historyIndex, attrTicket, q.TicketID, lo, horizon, q.Types)
			items, stop, err = s.readPartition(ctx, in, want, len(q.Types) > 0)
		}
		wg.Wait()
		if existsErr != nil {
			return nil, existsErr
		}
	case !ahead:
		items, stop, err = s.mergeFeed(ctx, lo, horizon, q.Types, want)
	}
	if err != nil {
		return nil, translate(err, "list events")
	}
	page := &helpdesk.EventPage{Events: make([]*helpdesk.StoredEvent, 0, min(len(items), q.PageSize))}
	next := after
	for i, item := range items {
		if i == q.PageSize {
			page.HasMore = true
			break
		}
		e, pos, err := listedEvent(item)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, e)
		next = pos
	}
	if stop != "" {
		// The read budget ran out first: the next page starts where
		// reading stopped, past what this one read and filtered out.
		page.HasMore, next = true, max(next, stop)
	}
	if !page.HasMore {
		// Everything up to the horizon has been read: poll from there.
		next = max(next, horizon)
	}
	codec, err := s.cursors(ctx)
	if err != nil {
		return nil, err
	}
	page.Next = codec.Seal(eventBinding(q), []byte(next))
	return page, nil
}

// readBudget bounds the items one page of events may read. Without a type
// filter a page reads at most about 2.2 times what it returns (see
// mergeFeed), well within it; a filter that matches little would
// otherwise read the whole feed for one page. A page that spends it comes
// back short, even empty, with hasMore, and its cursor where reading
// stopped.
func readBudget(want int) int { return 4*want + 400 }

// readPartition reads up to want events of one index partition, within
// the read budget; stop is the position reading stopped at when the budget
// ran out first. A filtered read asks for more than it still wants, since
// most of what it reads may be filtered out.
func (s *Store) readPartition(ctx context.Context, in *dynamodb.QueryInput, want int, filtered bool) (items []map[string]types.AttributeValue, stop string, err error) {
	left := readBudget(want)
	for {
		limit := want - len(items)
		if filtered {
			limit *= 4
		}
		next := *in
		next.Limit = aws.Int32(int32(min(limit, left)))
		out, err := s.db.Query(ctx, &next)
		if err != nil {
			return nil, "", err
		}
		left -= int(out.ScannedCount)
		items = append(items, out.Items...)
		switch {
		case out.LastEvaluatedKey == nil || len(items) >= want:
			return items, "", nil
		case left <= 0:
			return items, itemPos(out.LastEvaluatedKey), nil
		}
		in = &next
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// listedEvent decodes an event item of a page, and its position. It
// reads the attributes directly rather than through attributevalue's
// reflection: a page holds up to a thousand events, and decoding them was
// a measurable part of serving one.
func listedEvent(item map[string]types.AttributeValue) (*helpdesk.StoredEvent, string, error) {
	text := func(name string) (string, bool) {
		v, ok := item[name].(*types.AttributeValueMemberS)
		if !ok {
			return "", false
		}
		return v.Value, true
	}
	id, okID := text("id")
	typ, okType := text("type")
	created, okCreated := text("createdAt")
	ticket, okTicket := text(attrTicket)
	order, okOrder := text("order")
	pos, okPos := text(attrPos)
	if !okID || !okType || !okCreated || !okTicket || !okOrder || !okPos {
		return nil, "", fmt.Errorf("event item %q lacks an attribute or has one of the wrong type", id)
	}
	body, err := eventBody(item)
	if err != nil {
		return nil, "", fmt.Errorf("event %s: %w", id, err)
	}
	at, err := parseTime(created)
	if err != nil {
		return nil, "", fmt.Errorf("event %s createdAt: %w", id, err)
	}
	return &helpdesk.StoredEvent{ID: id, Type: typ, Body: body, CreatedAt: at, TicketID: ticket, Order: order}, pos, nil
}

// eventQuery queries one partition of an index for the positions from lo
// to before horizon, oldest first, keeping the given types.
func (s *Store) eventQuery(ix Index, attr, value, lo, horizon string, kinds []string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ix.Name),
		KeyConditionExpression:   aws.String("#k = :k AND #p BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#k": attr, "#p": attrPos},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": str(value), ":lo": str(lo), ":hi": str(horizon),
		},
	}
	if len(kinds) > 0 {
		names := make([]string, len(kinds))
		for i, t := range kinds {
			names[i] = ":t" + strconv.Itoa(i)
			in.ExpressionAttributeValues[names[i]] = str(t)
		}
		in.FilterExpression = aws.String("#ty IN (" + strings.Join(names, ", ") + ")")
		in.ExpressionAttributeNames["#ty"] = "type"
	}
	return in
}

// shardRead is one shard's part of a feed page: what it has returned and
// not yet merged, and how far it has been read.
type shardRead struct {
	in      *dynamodb.QueryInput
	buf     []map[string]types.AttributeValue
	read    string // the position it has been read up to, once read
	done    bool   // read up to the horizon
	scanned int    // items read by the latest round, for the read budget
}

// mergeFeed returns up to want events of the feed from lo to before
// horizon, in position order, merging the shards. Each round queries the
// shards that have nothing left to merge, for twice their share of what
// is still wanted (so that one round almost always does: a second costs a
// round trip, measured as the larger part of a page's overhead, while the
// extra items read cost read units only) (with a filter, twice as much each round,
// as most of what is read may be filtered out); an event is merged only
// once every shard not read to the end has been read past it. stop is the
// position merging stopped at when the read budget ran out first.
func (s *Store) mergeFeed(ctx context.Context, lo, horizon string, kinds []string, want int) (out []map[string]types.AttributeValue, stop string, err error) {
	shards := make([]*shardRead, FeedShards)
	for i := range shards {
		shards[i] = &shardRead{in: s.eventQuery(feedIndex, attrFeed, feedPrefix+strconv.Itoa(i), lo, horizon, kinds)}
	}
	left := readBudget(want)
	for round := 0; len(out) < want; round++ {
		if left <= 0 {
			return out, mergeBound(shards), nil
		}
		var wg sync.WaitGroup
		errs := make([]error, len(shards))
		share := (want-len(out))*2/FeedShards + 2
		if len(kinds) > 0 {
			share <<= min(round, 6)
		}
		share = max(1, min(share, left/FeedShards))
		for i, sh := range shards {
			if sh.done || len(sh.buf) > 0 {
				continue
			}
			wg.Go(func() { errs[i] = s.readShard(ctx, sh, int32(share)) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, "", err
		}
		for _, sh := range shards {
			left -= sh.scanned
			sh.scanned = 0
		}
		// Merge what every unfinished shard has been read past.
		bound := mergeBound(shards)
		for len(out) < want {
			var head *shardRead
			for _, sh := range shards {
				if len(sh.buf) > 0 && (head == nil || itemPos(sh.buf[0]) < itemPos(head.buf[0])) {
					head = sh
				}
			}
			if head == nil || bound != "" && itemPos(head.buf[0]) > bound {
				break
			}
			out = append(out, head.buf[0])
			head.buf = head.buf[1:]
		}
		if !slices.ContainsFunc(shards, func(sh *shardRead) bool { return !sh.done || len(sh.buf) > 0 }) {
			break
		}
	}
	return out, "", nil
}

// mergeBound is the position every shard not read to the end has been
// read up to: what the merge may emit; empty when every shard is.
func mergeBound(shards []*shardRead) string {
	bound := ""
	for _, sh := range shards {
		if !sh.done && (bound == "" || sh.read < bound) {
			bound = sh.read
		}
	}
	return bound
}

// readShard reads up to limit more items of one shard.
func (s *Store) readShard(ctx context.Context, sh *shardRead, limit int32) error {
	in := *sh.in
	in.Limit = aws.Int32(limit)
	out, err := s.db.Query(ctx, &in)
	if err != nil {
		return err
	}
	sh.scanned = int(out.ScannedCount)
	sh.buf = append(sh.buf, out.Items...)
	if out.LastEvaluatedKey == nil {
		sh.done = true
		return nil
	}
	sh.read = itemPos(out.LastEvaluatedKey)
	next := *sh.in
	next.ExclusiveStartKey = out.LastEvaluatedKey
	sh.in = &next
	return nil
}

func itemPos(item map[string]types.AttributeValue) string {
	if v, ok := item[attrPos].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// historyKept returns nil if ticket id's history is still kept at now: the
// ticket exists, or is in the trash (deleted less than TrashRetention ago,
// and no purge begun).
func (s *Store) historyKept(ctx context.Context, id string, now time.Time) error {
	items, err := s.batchGet(ctx, "read ticket "+id+" and its tombstone", []map[string]types.AttributeValue{itemKey(kindTicket, id), tombstoneKey(id)}, "pk, sk, deletedAt, purgedAt")
	if err != nil {
		return err
	}
	for _, item := range items {
		if sk, _ := item[attrSK].(*types.AttributeValueMemberS); sk == nil || sk.Value != kindTombstone {
			return nil // the ticket itself
		}
		ts, err := unmarshalTombstone(item)
		if err != nil {
			return err
		}
		if ts.purge == nil && now.Before(ts.deleted.At.Add(helpdesk.TrashRetention)) {
			return nil
		}
	}
	return errNoHistory
}

// LatestEvent returns the latest recorded event of ticket id, by
// position. CodeNotFound if none is (it never had one, or its history was
// purged).
func (s *Store) LatestEvent(ctx context.Context, id string) (*helpdesk.StoredEvent, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(historyIndex.Name),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": attrTicket},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(id)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return nil, translate(err, "read the latest event of %s", id)
	}
	if len(out.Items) == 0 {
		return nil, errEventNotFound
	}
	e, _, err := listedEvent(out.Items[0])
	return e, err
}

// PurgeHistory deletes the recorded events of a ticket, once its
// tombstone has expired, and returns how many it deleted. It is
// idempotent.
func (s *Store) PurgeHistory(ctx context.Context, ticketID string) (int, error) {
	keys, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(historyIndex.Name),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": attrTicket},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(ticketID)},
		ProjectionExpression:      aws.String("pk, sk"),
	})
	if err != nil {
		return 0, err
	}
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{attrPK: k[attrPK], attrSK: k[attrSK]}}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return 0, fmt.Errorf("purge the history of %s: %w", ticketID, err)
	}
	return len(keys), nil
}

// recordedKeys returns which of the given keys' items exist, by their pk,
// read consistently.
func (s *Store) recordedKeys(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]bool, error) {
	items, err := s.batchGet(ctx, "read recorded events and pending deliveries", keys, "pk")
	if err != nil {
		return nil, err
	}
	found := make(map[string]bool, len(items))
	for _, item := range items {
		if pk, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
			found[pk.Value] = true
		}
	}
	return found, nil
}
