package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"

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

// ticketIndexes serve every single filter in every sort with no filter
// expression. Sorting by status or priority walks that field's values in
// order through the created-sorted index partitioned by the filters plus
// that field, so those sorts need no indexes of their own.
var ticketIndexes = []ticketIndex{
	{Index{kindCreatedIndex, attrKind, attrCreated}, 0, byCreated},
	{Index{"kind-updated", attrKind, attrUpdated}, 0, byUpdated},
	{Index{"status-created", attrStatus, attrCreated}, fStatus, byCreated},
	{Index{"status-updated", attrStatus, attrUpdated}, fStatus, byUpdated},
	{Index{"priority-created", attrPriority, attrCreated}, fPriority, byCreated},
	{Index{"priority-updated", attrPriority, attrUpdated}, fPriority, byUpdated},
	{Index{"statuspriority-created", attrStatusPriority, attrCreated}, fStatus | fPriority, byCreated},
	{Index{"assignee-created", attrAssignee, attrCreated}, fAssignee, byCreated},
	{Index{"assignee-updated", attrAssignee, attrUpdated}, fAssignee, byUpdated},
	{Index{"assigneestatus-created", attrAssigneeStatus, attrCreated}, fAssignee | fStatus, byCreated},
	{Index{"assigneepriority-created", attrAssigneePrio, attrCreated}, fAssignee | fPriority, byCreated},
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

// segment is one index partition that a list reads in order, with the
// filter conditions its partition key does not already pin.
type segment struct {
	index     *ticketIndex
	partition string
	residual  filterValues
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

// chooseIndex returns the index sorted by sk whose partition pins the most
// of the filtered fields (preferring the assignee, the most selective).
func chooseIndex(v filterValues, sk sortKey) *ticketIndex {
	var best *ticketIndex
	score := func(ix *ticketIndex) int {
		s := 2 * bits.OnesCount8(uint8(ix.parts))
		if ix.parts&fAssignee != 0 {
			s++
		}
		return s
	}
	for i := range ticketIndexes {
		ix := &ticketIndexes[i]
		if ix.sort == sk && ix.parts&^v.set == 0 && (best == nil || score(ix) > score(best)) {
			best = ix
		}
	}
	return best
}

func newSegment(v filterValues, sk sortKey) segment {
	ix := chooseIndex(v, sk)
	residual := v
	residual.set &^= ix.parts
	return segment{index: ix, partition: v.partition(ix.parts), residual: residual}
}

func planFor(f helpdesk.TicketFilter, by helpdesk.SortBy, order helpdesk.Order) plan {
	v := newFilterValues(f)
	p := plan{forward: order == helpdesk.Asc}
	var walk []string
	switch {
	case by == helpdesk.SortStatus && v.set&fStatus == 0:
		for _, st := range helpdesk.Statuses {
			walk = append(walk, string(st))
		}
	case by == helpdesk.SortPriority && v.set&fPriority == 0:
		for _, pr := range helpdesk.Priorities {
			walk = append(walk, string(pr))
		}
	case by == helpdesk.SortUpdatedAt:
		p.segments = []segment{newSegment(v, byUpdated)}
		p.mutable = true
		return p
	default:
		p.segments = []segment{newSegment(v, byCreated)}
		return p
	}
	if !p.forward {
		slices.Reverse(walk)
	}
	for _, val := range walk {
		w := v
		if by == helpdesk.SortStatus {
			w.set, w.status = w.set|fStatus, val
		} else {
			w.set, w.priority = w.set|fPriority, val
		}
		p.segments = append(p.segments, newSegment(w, byCreated))
	}
	p.mutable = true
	return p
}

// position is the state a cursor carries: where the walk stands and when
// it began.
type position struct {
	Segment int               `json:"s"`
	Key     map[string]string `json:"k"`
	Since   string            `json:"t"`
}

// binding is what a cursor is bound to: the filters, sort and order.
func binding(q helpdesk.ListQuery) string {
	return strings.Join([]string{"tickets/v1", string(q.Filter.Status), string(q.Filter.Priority), q.Filter.AssigneeID, string(q.SortBy), string(q.Order)}, "\x00")
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
	ix := p.segments[pos.Segment].index
	if len(pos.Key) != 4 || pos.Key[attrPK] == "" || pos.Key[attrSK] == "" || pos.Key[ix.PartitionKey] == "" || pos.Key[ix.SortKey] == "" {
		return nil, errBadCursor
	}
	if _, err := parseTime(pos.Since); err != nil {
		return nil, errBadCursor
	}
	return &pos, nil
}

// PageStats is the cost of one list page, as DynamoDB reported it.
type PageStats struct {
	Query    helpdesk.ListQuery
	Index    string  // the first index read
	Calls    int     // Query calls made
	Scanned  int     // items DynamoDB read (ScannedCount)
	Matched  int     // items that passed the filter expression (Count)
	Returned int     // tickets on the page
	Capacity float64 // read capacity units consumed
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
	stats := PageStats{Query: q, Index: p.segments[pos.Segment].index.Name}
	type found struct {
		item    map[string]types.AttributeValue
		segment int
	}
	var items []found
	want := q.PageSize + 1
	start := keyAttrs(pos.Key)
	for seg := pos.Segment; seg < len(p.segments) && len(items) < want; {
		in := s.segmentQuery(p, seg, start, int32(want-len(items)), filterSince, pos.Since)
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate(err, "query %s", p.segments[seg].index.Name)
		}
		stats.Calls++
		stats.Scanned += int(out.ScannedCount)
		stats.Matched += int(out.Count)
		if out.ConsumedCapacity != nil {
			stats.Capacity += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		for _, it := range out.Items {
			items = append(items, found{it, seg})
		}
		if start = out.LastEvaluatedKey; start == nil {
			seg++
		}
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
		last := items[q.PageSize-1]
		ix := p.segments[last.segment].index
		next := position{Segment: last.segment, Since: pos.Since, Key: map[string]string{}}
		for _, a := range []string{attrPK, attrSK, ix.PartitionKey, ix.SortKey} {
			sv, ok := last.item[a].(*types.AttributeValueMemberS)
			if !ok {
				return nil, fmt.Errorf("list tickets: item in %s lacks key attribute %s", ix.Name, a)
			}
			next.Key[a] = sv.Value
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
	stats.Returned = len(page.Tickets)
	if s.Observe != nil {
		s.Observe(stats)
	}
	return page, nil
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

// segmentQuery builds the Query for one segment of a plan.
func (s *Store) segmentQuery(p plan, seg int, start map[string]types.AttributeValue, limit int32, filterSince bool, since string) *dynamodb.QueryInput {
	sg := p.segments[seg]
	names := map[string]string{"#pk": sg.index.PartitionKey}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: sg.partition}}
	var conds []string
	add := func(attr, value, op string) {
		n := fmt.Sprintf("f%d", len(conds))
		names["#"+n] = attr
		values[":"+n] = &types.AttributeValueMemberS{Value: value}
		conds = append(conds, fmt.Sprintf("#%s %s :%s", n, op, n))
	}
	r := sg.residual
	if r.set&fAssignee != 0 {
		add("assigneeId", r.assignee, "=")
	}
	if r.set&fStatus != 0 {
		add("status", r.status, "=")
	}
	if r.set&fPriority != 0 {
		add("priority", r.priority, "=")
	}
	if filterSince {
		add("updatedAt", since, "<=")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(sg.index.Name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(p.forward),
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         start,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	return in
}
