package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// The trash. A deleted ticket leaves its tombstone in its partition, in
// place of the ticket: who deleted it when, and the ticket as it was (a
// map attribute, so that none of its index keys is a key of the table's
// indexes: a trashed ticket is in no ticket list and costs no index
// write). Its comments stay in the partition, unlisted while the ticket
// is gone. The tombstone is the trash's entry, listed from the kind index
// (partition kindTrash, newest deletion first) and expired by the table's
// TTL after helpdesk.TrashRetention.
//
// Its removal is read from the stream (see PurgeOf): a restore marks it
// (restoringAt) and then removes it; a purge marks it (purgedAt) and then
// removes it; DynamoDB's TTL removes it unmarked (or marked by a restore
// that failed half way, but then as a service). A purge of either kind
// makes the stream consumer purge the comments and the history and send
// ticket.purged.
const (
	// kindTombstone is the sort key of a deleted ticket's tombstone, in
	// the ticket's partition.
	kindTombstone = "DELETED"
	// kindTrash is the kind index's partition of the trash's entries.
	kindTrash = "TRASH"
	// attrTrashed is the tombstone's copy of the ticket.
	attrTrashed = "ticket"
	// attrPurgedAt marks a tombstone being purged.
	attrPurgedAt = "purgedAt"
	// attrRestoringAt marks a tombstone being restored.
	attrRestoringAt = "restoringAt"
	// attrRestoredAt marks the write of a ticket that restores it.
	attrRestoredAt = "restoredAt"
)

var (
	errNotInTrash = helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found in the trash.")
	// errPurged answers a restore or purge of a ticket whose purge has
	// begun.
	errPurged = helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found in the trash; it has been purged.")
)

var _ helpdesk.TrashStore = (*Store)(nil)

// tombstoneItem is what a deleted ticket leaves in its partition (see
// above). Tombstones written before the trash have no copy of the ticket
// and no index keys: they cannot be restored, and only keep the history
// readable until they expire.
type tombstoneItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Kind      string `dynamodbav:"ix_kind,omitempty"`
	Created   string `dynamodbav:"ix_c,omitempty"`
	DeletedAt string `dynamodbav:"deletedAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	PurgedAt  string `dynamodbav:"purgedAt,omitempty"`
	// RestoringAt is the time of the restore that marked the tombstone.
	RestoringAt string `dynamodbav:"restoringAt,omitempty"`
	// The purger, named apart from the deleter's actorAttrs.
	PurgedByType string `dynamodbav:"purgedByType,omitempty"`
	PurgedByID   string `dynamodbav:"purgedById,omitempty"`
	PurgedByName string `dynamodbav:"purgedByName,omitempty"`
	actorAttrs
}

func tombstoneKey(ticketID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(TicketKeyPrefix + ticketID), attrSK: str(kindTombstone)}
}

// marshalTombstone is the trash's entry for t, deleted as del says.
func marshalTombstone(t *helpdesk.Ticket, del helpdesk.Stamp) (map[string]types.AttributeValue, error) {
	at := formatTime(del.At)
	av, err := attributevalue.MarshalMap(tombstoneItem{
		PK: TicketKeyPrefix + t.ID, SK: kindTombstone, Kind: kindTrash, Created: joinKey(at, t.ID), DeletedAt: at,
		ExpiresAt: del.At.Add(helpdesk.TrashRetention).Unix(), actorAttrs: actorOf(del.By),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal the tombstone of %s: %w", t.ID, err)
	}
	copied, err := marshalTicket(t)
	if err != nil {
		return nil, err
	}
	av[attrTrashed] = &types.AttributeValueMemberM{Value: copied}
	return av, nil
}

// tombstone is a decoded tombstone.
type tombstone struct {
	id      string
	deleted helpdesk.Stamp
	expires time.Time
	// purge is set once a purge has marked the tombstone.
	purge *helpdesk.Stamp
	// restoring is set once a restore has marked it.
	restoring bool
	// ticket is the ticket as it was deleted; nil in a tombstone written
	// before the trash.
	ticket *helpdesk.Ticket
}

// inTrash reports whether the tombstone's ticket can be restored or
// purged at now.
func (ts *tombstone) inTrash(now time.Time) bool {
	return ts.ticket != nil && ts.purge == nil && now.Before(ts.expires)
}

func unmarshalTombstone(av map[string]types.AttributeValue) (*tombstone, error) {
	var it tombstoneItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("unmarshal tombstone: %w", err)
	}
	at, err := parseTime(it.DeletedAt)
	if err != nil {
		return nil, fmt.Errorf("tombstone %s deletedAt: %w", it.PK, err)
	}
	ts := &tombstone{
		id:      strings.TrimPrefix(it.PK, TicketKeyPrefix),
		deleted: helpdesk.Stamp{At: at, By: it.actor()},
		expires: time.Unix(it.ExpiresAt, 0), restoring: it.RestoringAt != "",
	}
	if it.PurgedAt != "" {
		purged, err := parseTime(it.PurgedAt)
		if err != nil {
			return nil, fmt.Errorf("tombstone %s purgedAt: %w", it.PK, err)
		}
		by := actorAttrs{ByType: it.PurgedByType, ByID: it.PurgedByID, ByName: it.PurgedByName}
		ts.purge = &helpdesk.Stamp{At: purged, By: by.actor()}
	}
	if m, ok := av[attrTrashed].(*types.AttributeValueMemberM); ok {
		if ts.ticket, err = unmarshalTicket(m.Value); err != nil {
			return nil, fmt.Errorf("tombstone %s: %w", it.PK, err)
		}
	}
	return ts, nil
}

// tombstoneOf reads ticket id's tombstone consistently. CodeNotFound if
// it has none.
func (s *Store) tombstoneOf(ctx context.Context, id string) (*tombstone, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: tombstoneKey(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get the tombstone of %s", id)
	}
	if out.Item == nil {
		return nil, errTicketNotFound
	}
	return unmarshalTombstone(out.Item)
}

// Tombstone returns who deleted ticket id when, read consistently.
// CodeNotFound if the ticket has no tombstone (it is not deleted, or was
// restored or purged).
func (s *Store) Tombstone(ctx context.Context, id string) (helpdesk.Stamp, error) {
	ts, err := s.tombstoneOf(ctx, id)
	if err != nil {
		return helpdesk.Stamp{}, err
	}
	return ts.deleted, nil
}

// DeleteTicket implements helpdesk.TicketStore: a consistent read of the
// ticket, then one transaction that deletes it, on condition that its
// version is still the one read, and puts its tombstone with the copy
// read (the trash's entry). A concurrent write makes it read again. The
// transaction bills both writes twice; deletions are rare.
func (s *Store) DeleteTicket(ctx context.Context, id string, pre helpdesk.Precondition, del helpdesk.Stamp) error {
	for attempt := range maxAttempts {
		t, err := s.Ticket(ctx, id)
		if helpdesk.ErrorCode(err) == helpdesk.CodeNotFound {
			// Deleted by this very call, whose first attempt landed and
			// only its answer was lost (the SDK retried), or by someone
			// else, or never there.
			if ts, err := s.tombstoneOf(ctx, id); err == nil && ts.deleted.At.Equal(del.At) && ts.deleted.By == del.By {
				return nil
			}
			return errTicketNotFound
		}
		if err != nil {
			return err
		}
		if !pre.Allows(t.Version) {
			return helpdesk.ErrTicketChanged
		}
		tomb, err := marshalTombstone(t, del)
		if err != nil {
			return err
		}
		failed, err := s.transact(ctx, "delete ticket "+id, []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: itemKey(kindTicket, id),
				ConditionExpression:       aws.String("ver = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": number(t.Version)},
			}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: tomb}},
		}, nil)
		if err != nil || failed == nil {
			return err
		}
		// Written (or deleted) since the read: read it again.
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
	return errContention
}

// trashBinding is what a trash cursor is bound to.
const trashBinding = "trash/v1"

// DeletedTickets implements helpdesk.TrashStore: one Query of the kind
// index's trash partition, newest first, reading one entry past the page.
// Entries past their expiry (DynamoDB's TTL deletes them late) or being
// purged are skipped.
func (s *Store) DeletedTickets(ctx context.Context, q helpdesk.TrashQuery, now time.Time) (*helpdesk.TrashPage, error) {
	in := s.kindQuery(kindTrash)
	in.ScanIndexForward = aws.Bool(false)
	in.FilterExpression = aws.String("expiresAt > :now AND attribute_not_exists(" + attrPurgedAt + ")")
	in.ExpressionAttributeValues[":now"] = number(now.Unix())
	if q.After != "" {
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := codec.Open(trashBinding, q.After)
		if err != nil {
			return nil, errBadCursor
		}
		at, id, ok := strings.Cut(string(state), "#")
		if _, err := parseTime(at); err != nil || !ok || !helpdesk.ValidTicketID(id) {
			return nil, errBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: str(TicketKeyPrefix + id), attrSK: str(kindTombstone), attrKind: str(kindTrash), attrCreated: str(string(state)),
		}
	}
	items, _, err := s.queryPage(ctx, in, q.PageSize+1)
	if err != nil {
		return nil, translate(err, "list the trash")
	}
	page := &helpdesk.TrashPage{Tickets: make([]*helpdesk.DeletedTicket, 0, min(len(items), q.PageSize))}
	for _, item := range items[:min(len(items), q.PageSize)] {
		ts, err := unmarshalTombstone(item)
		if err != nil {
			return nil, err
		}
		if ts.ticket == nil {
			return nil, fmt.Errorf("trash entry %s holds no ticket", ts.id)
		}
		page.Tickets = append(page.Tickets, &helpdesk.DeletedTicket{Ticket: ts.ticket, Deleted: ts.deleted})
	}
	if len(items) > q.PageSize {
		last := page.Tickets[len(page.Tickets)-1]
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		page.Next = codec.Seal(trashBinding, []byte(joinKey(formatTime(last.Deleted.At), last.Ticket.ID)))
	}
	return page, nil
}

// RestoreTicket implements helpdesk.TrashStore: a consistent read of the
// tombstone; a mark on it (restoringAt, on condition that it is the one
// read and no purge has marked it), so that its removal reads as a
// restore on the stream; then one transaction that deletes it, on
// condition that the mark is this restore's and no purge has come since,
// and puts the ticket back, marked restoredAt (the stream's consumer
// sends ticket.restored for it; the ticket's next write drops the mark).
// Its comments never left. A restore interrupted after its mark leaves
// the entry in the trash, to be restored again or purged.
func (s *Store) RestoreTicket(ctx context.Context, id string, restore helpdesk.Stamp) (*helpdesk.Ticket, error) {
	ts, err := s.tombstoneOf(ctx, id)
	switch {
	case helpdesk.ErrorCode(err) == helpdesk.CodeNotFound:
		return s.restoredBy(ctx, id, restore)
	case err != nil:
		return nil, err
	case ts.purge != nil:
		return nil, errPurged
	case !ts.inTrash(restore.At):
		return nil, errNotInTrash
	}
	t := helpdesk.Restored(ts.ticket, restore)
	item, err := marshalTicket(t)
	if err != nil {
		return nil, err
	}
	mark := str(formatTime(restore.At))
	item[attrRestoredAt] = mark
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: tombstoneKey(id),
		UpdateExpression:          aws.String("SET " + attrRestoringAt + " = :r"),
		ConditionExpression:       aws.String("deletedAt = :d AND attribute_not_exists(" + attrPurgedAt + ")"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": mark, ":d": str(formatTime(ts.deleted.At))},
	})
	switch {
	case isConditionFailed(err):
		return s.restoredBy(ctx, id, restore)
	case err != nil:
		return nil, translate(err, "mark ticket %s restoring", id)
	}
	failed, err := s.transact(ctx, "restore ticket "+id, []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: tombstoneKey(id),
			ConditionExpression:       aws.String(attrRestoringAt + " = :r AND attribute_not_exists(" + attrPurgedAt + ")"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":r": mark},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}, nil)
	switch {
	case err != nil:
		return nil, err
	case failed == nil:
		return t, nil
	}
	// Restored, purged or deleted again since the read; or restored by
	// this very call, its answer lost.
	return s.restoredBy(ctx, id, restore)
}

// restoredBy returns the ticket if restore is what last wrote it: an
// earlier attempt of the same restore landed and only its answer was
// lost. CodeNotFound otherwise.
func (s *Store) restoredBy(ctx context.Context, id string, restore helpdesk.Stamp) (*helpdesk.Ticket, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindTicket, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get ticket %s", id)
	}
	if v, ok := out.Item[attrRestoredAt].(*types.AttributeValueMemberS); ok && v.Value == formatTime(restore.At) {
		if t, err := unmarshalTicket(out.Item); err == nil && t.ChangedBy == restore.By {
			return t, nil
		}
	}
	return nil, errNotInTrash
}

// PurgeTicket implements helpdesk.TrashStore: it marks the tombstone
// purged (so that its removal reads as a purge on the stream, and a
// restore racing it fails), then deletes it. A purge interrupted between
// the two is finished by the next one; meanwhile the entry is neither
// listed nor restorable.
func (s *Store) PurgeTicket(ctx context.Context, id string, purge helpdesk.Stamp) error {
	by := actorOf(purge.By)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: tombstoneKey(id),
		UpdateExpression: aws.String("SET purgedAt = if_not_exists(purgedAt, :at), purgedByType = if_not_exists(purgedByType, :bt), " +
			"purgedById = if_not_exists(purgedById, :bi), purgedByName = if_not_exists(purgedByName, :bn)"),
		// An entry past its expiry is purged too: DynamoDB's TTL may
		// take days to remove it.
		ConditionExpression:      aws.String("attribute_exists(#t)"),
		ExpressionAttributeNames: map[string]string{"#t": attrTrashed},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(formatTime(purge.At)), ":bt": str(by.ByType), ":bi": str(by.ByID), ":bn": str(by.ByName),
		},
	})
	switch {
	case isConditionFailed(err):
		return errNotInTrash
	case err != nil:
		return translate(err, "mark ticket %s purged", id)
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: tombstoneKey(id),
		ConditionExpression: aws.String("attribute_exists(" + attrPurgedAt + ")"),
	})
	switch {
	case isConditionFailed(err):
		return nil // removed by a purge racing this one, or an earlier attempt of it
	case err != nil:
		return translate(err, "purge ticket %s", id)
	}
	return nil
}
