package dynamo

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// TicketFromImage decodes a stream record image (as Lambda delivers it)
// into a ticket. ok is false, with no error, for an image that is not a
// ticket: other items share the table and its stream.
func TicketFromImage(image map[string]events.DynamoDBAttributeValue) (t *helpdesk.Ticket, ok bool, err error) {
	if !IsTicketKey(image) || !hasSortKey(image, kindTicket) {
		return nil, false, nil
	}
	av, err := fromStreamImage(image)
	if err != nil {
		return nil, false, err
	}
	t, err = unmarshalTicket(av)
	if err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// CommentFromImage decodes a stream record image into a comment. ok is
// false, with no error, for an image that is not a comment.
func CommentFromImage(image map[string]events.DynamoDBAttributeValue) (c *helpdesk.Comment, ok bool, err error) {
	sk, has := image[attrSK]
	if !IsTicketKey(image) || !has || sk.DataType() != events.DataTypeString || !strings.HasPrefix(sk.String(), kindComment+"#") {
		return nil, false, nil
	}
	av, err := fromStreamImage(image)
	if err != nil {
		return nil, false, err
	}
	c, err = unmarshalComment(av)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

func hasSortKey(image map[string]events.DynamoDBAttributeValue, sk string) bool {
	v, has := image[attrSK]
	return has && v.DataType() == events.DataTypeString && v.String() == sk
}

// IsTicketKey reports whether a stream record's keys (or an image) lie in a ticket's
// partition: the ticket itself or one of its comments. It is what the
// stack's stream filter matches.
func IsTicketKey(keys map[string]events.DynamoDBAttributeValue) bool {
	pk, has := keys[attrPK]
	return has && pk.DataType() == events.DataTypeString && strings.HasPrefix(pk.String(), TicketKeyPrefix)
}

// TombstoneFromImage decodes a stream record image into the tombstone of
// a deleted ticket: its id, and who deleted it when. ok is false, with no
// error, for an image that is not a tombstone.
func TombstoneFromImage(image map[string]events.DynamoDBAttributeValue) (ticketID string, del helpdesk.Stamp, ok bool, err error) {
	ts, err := tombstoneFromImage(image)
	if err != nil || ts == nil {
		return "", helpdesk.Stamp{}, false, err
	}
	return ts.id, ts.deleted, true, nil
}

func tombstoneFromImage(image map[string]events.DynamoDBAttributeValue) (*tombstone, error) {
	if !IsTicketKey(image) || !hasSortKey(image, kindTombstone) {
		return nil, nil
	}
	av, err := fromStreamImage(image)
	if err != nil {
		return nil, err
	}
	return unmarshalTombstone(av)
}

// ttlPrincipal is the userIdentity of the stream records of DynamoDB's
// own TTL deletions.
const ttlPrincipal = "dynamodb.amazonaws.com"

// PurgeOf reports whether a stream record is the purge of a deleted
// ticket, and returns its id and who purged it when. Every removal of a
// ticket's tombstone is a purge but a restore's: one a purge marked
// (purgedAt: that purge), one DynamoDB's TTL made TrashRetention after
// the deletion (the system, at the record's time; DynamoDB names itself
// the record's userIdentity), and one unmarked (the TTL too, as DynamoDB
// Local's tests stand in for it, or an operator). A restore marks the
// tombstone (restoringAt) before it removes it; a TTL removal after a
// restore that failed half way is still a purge. ok is false, with no
// error, for any other record.
func PurgeOf(rec events.DynamoDBEventRecord) (ticketID string, purge helpdesk.Stamp, ok bool, err error) {
	if rec.EventName != string(events.DynamoDBOperationTypeRemove) || !hasSortKey(rec.Change.Keys, kindTombstone) || !IsTicketKey(rec.Change.Keys) {
		return "", helpdesk.Stamp{}, false, nil
	}
	id := strings.TrimPrefix(rec.Change.Keys[attrPK].String(), TicketKeyPrefix)
	system := helpdesk.Stamp{At: rec.Change.ApproximateCreationDateTime.UTC(), By: helpdesk.System}
	ttl := rec.UserIdentity != nil && rec.UserIdentity.Type == "Service" && rec.UserIdentity.PrincipalID == ttlPrincipal
	ts, err := tombstoneFromImage(rec.Change.OldImage)
	switch {
	case err != nil:
		return "", helpdesk.Stamp{}, false, err
	case ts != nil && ts.purge != nil:
		return id, *ts.purge, true, nil
	case ttl || ts == nil || !ts.restoring:
		return id, system, true, nil
	}
	return "", helpdesk.Stamp{}, false, nil
}

// IsRestoration reports whether a stream record is the write that
// restores a ticket from the trash: an insert of a ticket marked
// restoredAt (see Store.RestoreTicket).
func IsRestoration(rec events.DynamoDBEventRecord) bool {
	_, marked := rec.Change.NewImage[attrRestoredAt]
	return rec.EventName == string(events.DynamoDBOperationTypeInsert) && marked && hasSortKey(rec.Change.Keys, kindTicket) && IsTicketKey(rec.Change.Keys)
}

// IsTicketRemoval reports whether a stream record is the deletion of a
// ticket (not of one of its comments), and returns the ticket's id.
func IsTicketRemoval(rec events.DynamoDBEventRecord) (string, bool) {
	if rec.EventName != string(events.DynamoDBOperationTypeRemove) || !hasSortKey(rec.Change.Keys, kindTicket) || !IsTicketKey(rec.Change.Keys) {
		return "", false
	}
	return strings.TrimPrefix(rec.Change.Keys[attrPK].String(), TicketKeyPrefix), true
}

// fromStreamImage converts Lambda's attribute values to the SDK's; the
// libraries share no type for them.
func fromStreamImage(image map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if a, b, ok := caseTwins(image); ok {
		// The SDK's decoder matches names to fields ignoring case, so both
		// would fill one field, and map order would pick the winner: the
		// same record could decode to two tickets.
		return nil, fmt.Errorf("attributes %q and %q differ only in case", a, b)
	}
	out := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		av, err := fromStreamValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// caseTwins returns two names of image that are equal ignoring case, the
// same two every time.
func caseTwins(image map[string]events.DynamoDBAttributeValue) (string, string, bool) {
	names := slices.Sorted(maps.Keys(image))
	for i, a := range names {
		for _, b := range names[i+1:] {
			if strings.EqualFold(a, b) {
				return a, b, true
			}
		}
	}
	return "", "", false
}

func fromStreamValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, item := range list {
			av, err := fromStreamValue(item)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := fromStreamImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}

// DroppedAttachments returns the attachments a stream record takes off a
// comment, whose bytes are then to be discarded: all of a removed
// comment's (its ticket was purged), and those a redaction removed. ids is
// empty for any other record.
func DroppedAttachments(rec events.DynamoDBEventRecord) (ticketID string, ids []string, err error) {
	old, ok, err := CommentFromImage(rec.Change.OldImage)
	if err != nil || !ok || len(old.Attachments) == 0 {
		return "", nil, err
	}
	var kept []helpdesk.Attachment
	if len(rec.Change.NewImage) > 0 {
		c, ok, err := CommentFromImage(rec.Change.NewImage)
		if err != nil {
			return "", nil, err
		}
		if ok {
			kept = c.Attachments
		}
	}
	for _, a := range old.Attachments {
		if !slices.ContainsFunc(kept, func(k helpdesk.Attachment) bool { return k.ID == a.ID }) {
			ids = append(ids, a.ID)
		}
	}
	return old.TicketID, ids, nil
}
