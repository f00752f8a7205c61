package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var _ helpdesk.UploadStore = (*Store)(nil)

// An upload is an item of its own partition, "UPLOAD#" and its id, found
// only by id. The table's TTL removes it UploadRetention after its
// creation, attached or not: once attached, the comment holds what is
// shown of the file, and the record only stops its reuse until its
// presigned request has long expired.
const kindUpload = "UPLOAD"

// attrAttachedTo names the comment an upload was attached to.
const attrAttachedTo = "attachedTo"

// uploadItem is an upload as stored.
type uploadItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"id"`
	Filename    string `dynamodbav:"filename"`
	ContentType string `dynamodbav:"contentType"`
	Size        int64  `dynamodbav:"size"`
	CreatedAt   string `dynamodbav:"createdAt"`
	// UsableUntil is the upload's ExpiresAt: expiresAt is the TTL's.
	UsableUntil string `dynamodbav:"usableUntil"`
	AttachedTo  string `dynamodbav:"attachedTo,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	actorAttrs
}

// PutUpload implements helpdesk.UploadStore: one put on condition that
// the id is free, in a transaction with done's completion when there is
// one.
func (s *Store) PutUpload(ctx context.Context, u *helpdesk.Upload, done *helpdesk.Completion) error {
	item, err := attributevalue.MarshalMap(uploadItem{
		PK: kindUpload + "#" + u.ID, SK: kindUpload, ID: u.ID, Filename: u.Filename, ContentType: u.ContentType,
		Size: u.Size, CreatedAt: formatTime(u.CreatedAt), UsableUntil: formatTime(u.ExpiresAt),
		ExpiresAt: u.CreatedAt.Add(helpdesk.UploadRetention).Unix(), actorAttrs: actorOf(u.CreatedBy),
	})
	if err != nil {
		return fmt.Errorf("marshal upload %s: %w", u.ID, err)
	}
	free := aws.String("attribute_not_exists(pk)")
	if done == nil {
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: free}); err != nil {
			return translate(err, "put upload %s", u.ID)
		}
		return nil
	}
	failed, err := s.transact(ctx, "put upload "+u.ID, []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: free}},
	}, done)
	if err == nil && failed != nil {
		// 120 random bits never collide; an earlier attempt of this
		// transaction would have completed the claim with it.
		return fmt.Errorf("put upload %s: the id is taken", u.ID)
	}
	return err
}

// Uploads implements helpdesk.UploadStore with one strongly consistent
// BatchGetItem. Records the TTL has not yet removed but whose retention
// has passed are left out, as if removed.
func (s *Store) Uploads(ctx context.Context, ids []string) ([]*helpdesk.Upload, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = itemKey(kindUpload, id)
	}
	items, err := s.batchGet(ctx, "get uploads", keys, "")
	if err != nil {
		return nil, err
	}
	out := make([]*helpdesk.Upload, 0, len(items))
	for _, av := range items {
		var it uploadItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal upload: %w", err)
		}
		created, err := parseTime(it.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("upload %s createdAt: %w", it.ID, err)
		}
		until, err := parseTime(it.UsableUntil)
		if err != nil {
			return nil, fmt.Errorf("upload %s usableUntil: %w", it.ID, err)
		}
		if !s.now().Before(created.Add(helpdesk.UploadRetention)) {
			continue
		}
		out = append(out, &helpdesk.Upload{
			ID: it.ID, Filename: it.Filename, ContentType: it.ContentType, Size: it.Size,
			CreatedAt: created, ExpiresAt: until, AttachedTo: it.AttachedTo, CreatedBy: it.actor(),
		})
	}
	return out, nil
}

// attachUploads are the transaction's updates that mark each attachment's
// upload attached to c: each on condition that the upload exists, is not
// attached, and is still usable at c's creation.
func attachUploads(table string, c *helpdesk.Comment) []types.TransactWriteItem {
	items := make([]types.TransactWriteItem, len(c.Attachments))
	for i, a := range c.Attachments {
		items[i] = types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(table), Key: itemKey(kindUpload, a.UploadID),
			UpdateExpression:    aws.String("SET " + attrAttachedTo + " = :c"),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(" + attrAttachedTo + ") AND usableUntil > :at"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":c": str(c.ID), ":at": str(formatTime(c.CreatedAt)),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}
	}
	return items
}

// uploadRefusals names the uploads whose condition failed in the
// cancellation reasons of attachUploads' updates, and why.
func uploadRefusals(c *helpdesk.Comment, reasons []types.CancellationReason) error {
	var list []helpdesk.UploadProblem
	for i, r := range reasons {
		if !conditionFailed(r) {
			continue
		}
		id := c.Attachments[i].UploadID
		msg := id + " expired before it could be attached: ask for a new upload"
		switch {
		case r.Item == nil:
			msg = id + " does not exist: uploads that are never attached are removed after 24 hours"
		case r.Item[attrAttachedTo] != nil:
			msg = id + " is attached to a comment already"
		}
		list = append(list, helpdesk.UploadProblem{Index: i, Message: msg})
	}
	return helpdesk.UploadProblems(list)
}
