package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// fieldSet is a set of the ticket fields a list can filter on.
type fieldSet uint8

const (
	fAssignee fieldSet = 1 << iota
	fStatus
	fPriority
)

// sortKey says which composite sort attribute an index orders by.
type sortKey int

const (
	byCreated sortKey = iota // ix_c: createdAt#id
	byUpdated                // ix_u: updatedAt#createdAt#id
)

// ticketIndex is an index over tickets: partitioned by the values of parts
// (joined in the order assignee, status, priority; "TICKET" when parts is
// empty) and sorted by its sort key.
type ticketIndex struct {
	Index
	parts fieldSet
	sort  sortKey
}

const kindCreatedIndex = "kind-created"

// ticketIndexes is the index plan v2 (docs/table-design.md): four indexes,
// two of them sorted by updatedAt, which every update and comment moves.
// The three hottest lists of a desk are each one partition read in order:
// a status by updated_at, an agent's tickets of a status by updated_at, a
// status by priority (a walk of that status's priority partitions). The
// others merge the partitions of one status or priority value each, or
// filter.
var ticketIndexes = []ticketIndex{
	{Index{kindCreatedIndex, attrKind, attrCreated}, 0, byCreated},
	{Index{"status-updated", attrStatus, attrUpdated}, fStatus, byUpdated},
	{Index{"statuspriority-created", attrStatusPriority, attrCreated}, fStatus | fPriority, byCreated},
	{Index{"assigneestatus-updated", attrAssigneeStatus, attrUpdated}, fAssignee | fStatus, byUpdated},
}

// RetiredIndexes are the index plan v1's indexes that v2 no longer reads or
// writes. A table created before v2 keeps them until an upgrade drops them,
// one per deploy (docs/operating.md); Migrate takes the tickets out of
// those whose keys only v1 wrote.
var RetiredIndexes = indexesOf(retiredTicketIndexes)

// retiredTicketIndexes are RetiredIndexes with what each served, so that
// a measurement can weigh v2 with one of them added back
// (docs/table-design.md, the frontier).
var retiredTicketIndexes = []ticketIndex{
	{Index{"kind-updated", attrKind, attrUpdated}, 0, byUpdated},
	{Index{"status-created", attrStatus, attrCreated}, fStatus, byCreated},
	{Index{"priority-created", attrPriority, attrCreated}, fPriority, byCreated},
	{Index{"priority-updated", attrPriority, attrUpdated}, fPriority, byUpdated},
	{Index{"assignee-created", attrAssignee, attrCreated}, fAssignee, byCreated},
	{Index{"assignee-updated", attrAssignee, attrUpdated}, fAssignee, byUpdated},
	{Index{"assigneestatus-created", attrAssigneeStatus, attrCreated}, fAssignee | fStatus, byCreated},
	{Index{"assigneepriority-created", attrAssigneePrio, attrCreated}, fAssignee | fPriority, byCreated},
}

func indexesOf(tis []ticketIndex) []Index {
	out := make([]Index, len(tis))
	for i, ix := range tis {
		out[i] = ix.Index
	}
	return out
}

// filterValues are the values a query pins, by field.
type filterValues struct {
	set                        fieldSet
	assignee, status, priority string
}

func newFilterValues(f helpdesk.TicketFilter) filterValues {
	var v filterValues
	if f.AssigneeID != "" {
		v.set, v.assignee = v.set|fAssignee, f.AssigneeID
	}
	if f.Status != "" {
		v.set, v.status = v.set|fStatus, string(f.Status)
	}
	if f.Priority != "" {
		v.set, v.priority = v.set|fPriority, string(f.Priority)
	}
	return v
}

// with returns v with field pinned to val.
func (v filterValues) with(field fieldSet, val string) filterValues {
	v.set |= field
	switch field {
	case fStatus:
		v.status = val
	case fPriority:
		v.priority = val
	default:
		v.assignee = val
	}
	return v
}

// partition returns the index partition key value for the fields in parts.
func (v filterValues) partition(parts fieldSet) string {
	if parts == 0 {
		return kindTicket
	}
	var vals []string
	for _, f := range []struct {
		bit fieldSet
		val string
	}{{fAssignee, v.assignee}, {fStatus, v.status}, {fPriority, v.priority}} {
		if parts&f.bit != 0 {
			vals = append(vals, f.val)
		}
	}
	return joinKey(vals...)
}

// values returns every value of a field a list can merge over: status or
// priority.
func values(field fieldSet) []string {
	var out []string
	if field == fStatus {
		for _, st := range helpdesk.Statuses {
			out = append(out, string(st))
		}
		return out
	}
	for _, pr := range helpdesk.Priorities {
		out = append(out, string(pr))
	}
	return out
}

// segment is a part of a list read in order: the partitions of one index
// merged by its sort key (one partition when the filters pin them all),
// with the filter conditions the partitions do not already pin.
type segment struct {
	index      *ticketIndex
	partitions []string
	residual   filterValues
}

// plan is how a list query is served: its segments read one after another
// in the sort direction.
type plan struct {
	segments []segment
	forward  bool
	// mutable is true when a ticket changed mid-walk can move to a part of
	// the walk not yet read, so later pages exclude tickets changed since
	// the walk began (see ListTickets).
	mutable bool
}

// filterCost weighs the fields a filter expression has to check, by the
// share of a desk's tickets a typical value leaves: an agent has a few
// percent of them, a status or priority value a quarter or so.
func filterCost(set fieldSet) int {
	cost := 1
	if set&fAssignee != 0 {
		cost *= 30
	}
	if set&fStatus != 0 {
		cost *= 4
	}
	if set&fPriority != 0 {
		cost *= 4
	}
	return cost
}

// newSegment returns how to read the tickets v pins in order sk: the index
// sorted by sk that reads the fewest items the filter discards. An index
// whose partition needs one field v leaves open is read by merging that
// field's partitions (at most five); an assignee cannot be merged over.
func newSegment(v filterValues, sk sortKey) segment {
	var best segment
	bestCost := 0
	for i := range ticketIndexes {
		ix := &ticketIndexes[i]
		open := ix.parts &^ v.set
		if ix.sort != sk || open&fAssignee != 0 || bits.OnesCount8(uint8(open)) > 1 {
			continue
		}
		residual := v
		residual.set &^= ix.parts
		// A merge costs a few items read past the page per partition, much
		// less than any filter.
		cost := 10 * filterCost(residual.set)
		var parts []string
		if open == 0 {
			parts = []string{v.partition(ix.parts)}
		} else {
			for _, val := range values(open) {
				parts = append(parts, v.with(open, val).partition(ix.parts))
			}
			cost += len(parts)
		}
		if best.index == nil || cost < bestCost {
			best, bestCost = segment{index: ix, partitions: parts, residual: residual}, cost
		}
	}
	return best
}

func planFor(f helpdesk.TicketFilter, by helpdesk.SortBy, order helpdesk.Order) plan {
	v := newFilterValues(f)
	p := plan{forward: order == helpdesk.Asc}
	var walk fieldSet
	switch {
	case by == helpdesk.SortStatus && v.set&fStatus == 0:
		walk = fStatus
	case by == helpdesk.SortPriority && v.set&fPriority == 0:
		walk = fPriority
	case by == helpdesk.SortUpdatedAt:
		p.segments = []segment{newSegment(v, byUpdated)}
		p.mutable = true
		return p
	default:
		p.segments = []segment{newSegment(v, byCreated)}
		return p
	}
	vals := values(walk)
	if !p.forward {
		slices.Reverse(vals)
	}
	for _, val := range vals {
		p.segments = append(p.segments, newSegment(v.with(walk, val), byCreated))
	}
	p.mutable = true
	return p
}

// position is the state a cursor carries: where the walk stands, when it
// began, and how the last page's tickets spread over the partitions of
// its segment, which sizes the next page's reads of a merge.
type position struct {
	Segment int               `json:"s"`
	Key     map[string]string `json:"k"`
	Since   string            `json:"t"`
	Shares  []int             `json:"n,omitempty"`
}

// binding is what a cursor is bound to: the filters, sort and order. A
// cursor of the index plan v1 does not open: its position names indexes v2
// does not have.
func binding(q helpdesk.ListQuery) string {
	return strings.Join([]string{"tickets/v2", string(q.Filter.Status), string(q.Filter.Priority), q.Filter.AssigneeID, string(q.SortBy), string(q.Order)}, "\x00")
}

var errBadCursor = helpdesk.Errorf(helpdesk.CodeBadRequest, "The cursor is malformed, altered, or was issued for other filters, sort or order; start again without it.")

func (s *Store) openCursor(ctx context.Context, q helpdesk.ListQuery, p plan) (*position, error) {
	codec, err := s.cursors(ctx)
	if err != nil {
		return nil, err
	}
	state, err := codec.Open(binding(q), q.After)
	if err != nil {
		return nil, errBadCursor
	}
	var pos position
	if err := json.Unmarshal(state, &pos); err != nil || pos.Segment < 0 || pos.Segment >= len(p.segments) {
		return nil, errBadCursor
	}
	sg := p.segments[pos.Segment]
	if len(pos.Key) != 3 || pos.Key[attrPK] == "" || pos.Key[attrSK] == "" || pos.Key[sg.index.SortKey] == "" {
		return nil, errBadCursor
	}
	if len(pos.Shares) != 0 && (len(pos.Shares) != len(sg.partitions) || slices.ContainsFunc(pos.Shares, func(n int) bool { return n < 0 || n > helpdesk.MaxPageSize })) {
		return nil, errBadCursor
	}
	if _, err := parseTime(pos.Since); err != nil {
		return nil, errBadCursor
	}
	return &pos, nil
}

// PageStats is the cost of one list page, as DynamoDB reported it.
type PageStats struct {
	Query  helpdesk.ListQuery
	Index  string // the first index read
	Calls  int    // Query calls made
	Rounds int    // round trips: the Query calls of a merge go out at once
	// Partitions is the most index partitions the page merged at once (1:
	// the filters pin one partition); Filtered says whether a filter
	// expression checked fields the partitions do not pin.
	Partitions int
	Filtered   bool
	Scanned    int     // items DynamoDB read (ScannedCount)
	Matched    int     // items that passed the filter expression (Count)
	Returned   int     // tickets on the page
	Capacity   float64 // read capacity units consumed
}

// found is an item a list read, and where it came from.
type found struct {
	item      map[string]types.AttributeValue
	segment   int
	partition int
}

// ListTickets implements helpdesk.TicketStore. It reads one item past the
// page, so that Next is set only when a further non-empty page exists, and
// stops after the page and that one item.
//
// For a walk whose order a change can alter (sort by updated_at, status or
// priority) pages after the first skip tickets updated since the first
// page was served: a ticket changed mid-walk may be missed, but none is
// returned twice, and every ticket left unchanged is returned once.
func (s *Store) ListTickets(ctx context.Context, q helpdesk.ListQuery) (*helpdesk.TicketPage, error) {
	p := planFor(q.Filter, q.SortBy, q.Order)
	pos := &position{Since: formatTime(s.now())}
	filterSince := false
	if q.After != "" {
		var err error
		if pos, err = s.openCursor(ctx, q, p); err != nil {
			return nil, err
		}
		filterSince = p.mutable
	}
	r := &pageRead{store: s, plan: p, filterSince: filterSince, since: pos.Since}
	r.stats = PageStats{Query: q, Index: p.segments[pos.Segment].index.Name}
	var items []found
	want := q.PageSize + 1
	after, shares := pos.Key, pos.Shares
	for seg := pos.Segment; seg < len(p.segments) && len(items) < want; seg++ {
		got, err := r.segment(ctx, seg, after, shares, want-len(items))
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
		after, shares = nil, nil
	}
	page := &helpdesk.TicketPage{Tickets: make([]*helpdesk.Ticket, 0, min(len(items), q.PageSize))}
	for _, f := range items[:min(len(items), q.PageSize)] {
		t, err := unmarshalTicket(f.item)
		if err != nil {
			return nil, err
		}
		page.Tickets = append(page.Tickets, t)
	}
	if len(items) > q.PageSize {
		next, err := nextPosition(p, items[:q.PageSize], pos.Since)
		if err != nil {
			return nil, err
		}
		state, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("list tickets: encode cursor: %w", err)
		}
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		page.Next = codec.Seal(binding(q), state)
	}
	r.stats.Returned = len(page.Tickets)
	if s.Observe != nil {
		s.Observe(r.stats)
	}
	return page, nil
}

// nextPosition is where the page of items ends: its last item, and how
// many of the page's items each partition of that item's segment gave.
func nextPosition(p plan, items []found, since string) (*position, error) {
	last := items[len(items)-1]
	sg := p.segments[last.segment]
	next := &position{Segment: last.segment, Since: since, Key: map[string]string{}}
	for _, a := range []string{attrPK, attrSK, sg.index.SortKey} {
		sv, ok := last.item[a].(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("list tickets: item in %s lacks key attribute %s", sg.index.Name, a)
		}
		next.Key[a] = sv.Value
	}
	if len(sg.partitions) > 1 {
		next.Shares = make([]int, len(sg.partitions))
		for _, f := range items {
			if f.segment == last.segment {
				next.Shares[f.partition]++
			}
		}
	}
	return next, nil
}

// pageRead is the reading of one list page.
type pageRead struct {
	store       *Store
	plan        plan
	filterSince bool
	since       string
	stats       PageStats
}

// partitionRead is where the reading of one partition of a merge stands.
type partitionRead struct {
	start map[string]types.AttributeValue
	buf   []map[string]types.AttributeValue
	done  bool
	share float64
	// scanned and matched are what this page's reads of the partition
	// evaluated and what the filter expression let through.
	scanned, matched int
}

// limit is how many items the next read of the partition asks DynamoDB to
// evaluate when need items are still wanted from the merge of parts
// partitions: its share plus two (the whole need for a lone partition),
// divided by the part of what it evaluated that its filter let through,
// so that a filtered list takes a few rounds rather than one per page's
// worth of discarded items (it reads a little more for it).
func (pr *partitionRead) limit(parts, need int) int32 {
	n := float64(need)
	if parts > 1 {
		n = math.Ceil(n*pr.share) + 2
	}
	if pr.scanned > pr.matched {
		n /= float64(pr.matched+1) / float64(pr.scanned+1)
	}
	return int32(min(math.Ceil(n), maxReadLimit))
}

// maxReadLimit bounds one read of a partition; a Query also stops at 1 MB.
const maxReadLimit = 1000

// segment reads up to need items of segment seg in the plan's order,
// resuming after the item whose keys are after (nil: from the start). A
// merge holds the next items of every partition and takes the first of
// them; a partition whose held items run out is read again before the
// merge goes on, so the order is exact. Each read asks a partition for its
// expected share of what is still needed, from the shares the last page
// saw (twice an even share on a first page), plus two, so that most pages
// take one round of parallel Queries and leave few items read and not
// returned.
func (r *pageRead) segment(ctx context.Context, seg int, after map[string]string, shares []int, need int) ([]found, error) {
	sg := r.plan.segments[seg]
	r.stats.Partitions = max(r.stats.Partitions, len(sg.partitions))
	r.stats.Filtered = r.stats.Filtered || sg.residual.set != 0
	parts := make([]*partitionRead, len(sg.partitions))
	total := 0
	for _, n := range shares {
		total += n
	}
	for i, part := range sg.partitions {
		// A first page knows nothing of the partitions' sizes: each is
		// asked for twice an even share, so that a page whose tickets
		// spread over a few partitions takes one round, not two.
		pr := &partitionRead{share: min(1, 2/float64(len(parts)))}
		if len(shares) == len(parts) {
			pr.share = (float64(shares[i]) + 0.5) / (float64(total) + 0.5*float64(len(parts)))
		}
		if after != nil {
			pr.start = keyAttrs(map[string]string{
				attrPK: after[attrPK], attrSK: after[attrSK],
				sg.index.PartitionKey: part, sg.index.SortKey: after[sg.index.SortKey],
			})
		}
		parts[i] = pr
	}
	var out []found
	for len(out) < need {
		var dry []int
		for i, pr := range parts {
			if len(pr.buf) == 0 && !pr.done {
				dry = append(dry, i)
			}
		}
		if len(dry) > 0 {
			if err := r.fill(ctx, seg, parts, dry, need-len(out)); err != nil {
				return nil, err
			}
			continue
		}
		first := -1
		for i, pr := range parts {
			if len(pr.buf) > 0 && (first < 0 || r.before(sg.index.SortKey, pr.buf[0], parts[first].buf[0])) {
				first = i
			}
		}
		if first < 0 {
			break
		}
		out = append(out, found{parts[first].buf[0], seg, first})
		parts[first].buf = parts[first].buf[1:]
	}
	return out, nil
}

// before reports whether item a comes before item b in the plan's order.
func (r *pageRead) before(sortAttr string, a, b map[string]types.AttributeValue) bool {
	av, _ := a[sortAttr].(*types.AttributeValueMemberS)
	bv, _ := b[sortAttr].(*types.AttributeValueMemberS)
	if av == nil || bv == nil {
		return av != nil
	}
	if r.plan.forward {
		return av.Value < bv.Value
	}
	return av.Value > bv.Value
}

// fill reads the next items of the partitions dry, all at once.
func (r *pageRead) fill(ctx context.Context, seg int, parts []*partitionRead, dry []int, need int) error {
	sg := r.plan.segments[seg]
	outs := make([]*dynamodb.QueryOutput, len(dry))
	errs := make([]error, len(dry))
	var wg sync.WaitGroup
	for j, i := range dry {
		in := r.query(seg, sg.partitions[i], parts[i].start, parts[i].limit(len(parts), need))
		wg.Go(func() { outs[j], errs[j] = r.store.db.Query(ctx, in) })
	}
	wg.Wait()
	r.stats.Rounds++
	for j, i := range dry {
		if errs[j] != nil {
			return translate(errs[j], "query %s", sg.index.Name)
		}
		out := outs[j]
		r.stats.Calls++
		r.stats.Scanned += int(out.ScannedCount)
		r.stats.Matched += int(out.Count)
		if out.ConsumedCapacity != nil {
			r.stats.Capacity += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		parts[i].scanned += int(out.ScannedCount)
		parts[i].matched += int(out.Count)
		parts[i].buf = append(parts[i].buf, out.Items...)
		parts[i].start = out.LastEvaluatedKey
		parts[i].done = out.LastEvaluatedKey == nil
	}
	return nil
}

func keyAttrs(key map[string]string) map[string]types.AttributeValue {
	if len(key) == 0 {
		return nil
	}
	av := make(map[string]types.AttributeValue, len(key))
	for k, v := range key {
		av[k] = &types.AttributeValueMemberS{Value: v}
	}
	return av
}

// query builds the Query of one partition of a segment.
func (r *pageRead) query(seg int, partition string, start map[string]types.AttributeValue, limit int32) *dynamodb.QueryInput {
	sg := r.plan.segments[seg]
	names := map[string]string{"#pk": sg.index.PartitionKey}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: partition}}
	var conds []string
	add := func(attr, value, op string) {
		n := fmt.Sprintf("f%d", len(conds))
		names["#"+n] = attr
		values[":"+n] = &types.AttributeValueMemberS{Value: value}
		conds = append(conds, fmt.Sprintf("#%s %s :%s", n, op, n))
	}
	res := sg.residual
	if res.set&fAssignee != 0 {
		add("assigneeId", res.assignee, "=")
	}
	if res.set&fStatus != 0 {
		add("status", res.status, "=")
	}
	if res.set&fPriority != 0 {
		add("priority", res.priority, "=")
	}
	if r.filterSince {
		add("updatedAt", r.since, "<=")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.store.table),
		IndexName:                 aws.String(sg.index.Name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(r.plan.forward),
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	return in
}
