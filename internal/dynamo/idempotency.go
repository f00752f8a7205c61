package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var _ helpdesk.IdempotencyStore = (*Store)(nil)

// An idempotency key is an item of its own, under a digest of its scope and
// key, in one of two states. Its expiry is the table's TTL attribute, but
// TTL deletes lag (up to days), so every condition checks it too.
const (
	kindIdempotency = "IDEMPOTENCY"
	stateInProgress = "IN_PROGRESS"
	stateCompleted  = "COMPLETED"
)

// errClaimLost answers a create whose idempotency claim was taken over (its
// lease ran out while it was still at work): the request that took it
// over carries on; this one stores nothing.
var errClaimLost = helpdesk.Errorf(helpdesk.CodeConflict, "Another request with this Idempotency-Key took over; it carries on instead of this one.")

type idempotencyItem struct {
	PK          string            `dynamodbav:"pk"`
	SK          string            `dynamodbav:"sk"`
	State       string            `dynamodbav:"state"`
	Fingerprint string            `dynamodbav:"fingerprint"`
	Token       string            `dynamodbav:"token"`
	LeaseUntil  int64             `dynamodbav:"leaseUntil,omitempty"` // Unix milliseconds, while in progress
	ExpiresAt   int64             `dynamodbav:"expiresAt"`            // Unix seconds
	Status      int               `dynamodbav:"respStatus,omitempty"`
	Header      map[string]string `dynamodbav:"respHeader,omitempty"`
	Body        []byte            `dynamodbav:"respBody,omitempty"`
	// Packed is a response body kept deflated (see completion); records
	// completed before bodies were deflated have Body instead.
	Packed []byte `dynamodbav:"respBodyz,omitempty"`
}

// maxPackedResponse bounds a deflated response kept by
// CompleteIdempotencyKey, well inside DynamoDB's 400 KB item with the
// record's other attributes.
const maxPackedResponse = 350 << 10

// errResponseTooLarge answers a completion whose response cannot be kept.
var errResponseTooLarge = helpdesk.Errorf(helpdesk.CodePayloadTooLarge, "The response is too large to keep for replays.")

// idempotencyID names c's key in the table: a digest, so that any
// printable key fits and none is readable there.
func idempotencyID(c *helpdesk.IdempotencyClaim) string {
	sum := sha256.Sum256([]byte(c.Scope + "\x00" + c.Key))
	return hex.EncodeToString(sum[:])
}

func idempotencyKey(c *helpdesk.IdempotencyClaim) map[string]types.AttributeValue {
	return itemKey(kindIdempotency, idempotencyID(c))
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// ClaimIdempotencyKey implements helpdesk.IdempotencyStore with one
// conditional put: it succeeds where there is no record, an expired one, or
// one in progress whose lease has run out; otherwise the failed condition
// returns the record that holds the key.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, c *helpdesk.IdempotencyClaim) (*helpdesk.IdempotencyRecord, error) {
	now := s.now()
	item, err := attributevalue.MarshalMap(idempotencyItem{
		PK: kindIdempotency + "#" + idempotencyID(c), SK: kindIdempotency,
		State: stateInProgress, Fingerprint: c.Fingerprint, Token: c.Token,
		LeaseUntil: now.Add(helpdesk.IdempotencyLease).UnixMilli(), ExpiresAt: now.Add(helpdesk.IdempotencyTTL).Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal idempotency key: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR expiresAt < :now OR (#st = :busy AND leaseUntil < :nowms)"),
		ExpressionAttributeNames: map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": number(now.Unix()), ":nowms": number(now.UnixMilli()), ":busy": str(stateInProgress),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &ccf) && ccf.Item != nil:
		var held idempotencyItem
		if err := attributevalue.UnmarshalMap(ccf.Item, &held); err != nil {
			return nil, fmt.Errorf("unmarshal idempotency key: %w", err)
		}
		if held.Token == c.Token && held.State == stateInProgress {
			return nil, nil // an earlier attempt of this put landed; only its answer was lost
		}
		body := held.Body
		if held.Packed != nil {
			if body, err = inflate(held.Packed); err != nil {
				return nil, fmt.Errorf("inflate saved response: %w", err)
			}
		}
		return &helpdesk.IdempotencyRecord{
			Fingerprint: held.Fingerprint, Done: held.State == stateCompleted,
			Response: helpdesk.SavedResponse{Status: held.Status, Header: held.Header, Body: body},
		}, nil
	default:
		return nil, translate(err, "claim idempotency key")
	}
}

// ReleaseIdempotencyKey implements helpdesk.IdempotencyStore with a delete
// conditional on the claim being c's and in progress.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c *helpdesk.IdempotencyClaim) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       idempotencyKey(c),
		ConditionExpression:       aws.String("#st = :busy AND #tok = :token"),
		ExpressionAttributeNames:  map[string]string{"#st": "state", "#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":busy": str(stateInProgress), ":token": str(c.Token)},
	})
	if err != nil && !isConditionFailed(err) {
		return translate(err, "release idempotency key")
	}
	return nil
}

// completion is the update that completes done's claim: only the claim's
// holder, while it holds it, may. The body is kept deflated: a bulk
// update's answer holds up to a hundred tickets, far beyond an item, and
// JSON deflates to a fraction. A creation's transaction writes it; a bulk
// update's CompleteIdempotencyKey, after its writes.
func (s *Store) completion(done *helpdesk.Completion) (*types.Update, error) {
	if len(done.Response.Body) > maxBody {
		return nil, errResponseTooLarge // a replay could not inflate it
	}
	packed := pack(done.Response.Body)
	if len(packed) > maxPackedResponse {
		return nil, errResponseTooLarge
	}
	header, err := attributevalue.Marshal(done.Response.Header)
	if err != nil {
		return nil, fmt.Errorf("marshal saved response: %w", err)
	}
	return &types.Update{
		TableName:                aws.String(s.table),
		Key:                      idempotencyKey(done.Claim),
		UpdateExpression:         aws.String("SET #st = :done, respStatus = :status, respHeader = :header, respBodyz = :body REMOVE leaseUntil"),
		ConditionExpression:      aws.String("#st = :busy AND #tok = :token"),
		ExpressionAttributeNames: map[string]string{"#st": "state", "#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": str(stateCompleted), ":busy": str(stateInProgress), ":token": str(done.Claim.Token),
			":status": number(int64(done.Response.Status)), ":header": header,
			":body": &types.AttributeValueMemberB{Value: packed},
		},
	}, nil
}

// CompleteIdempotencyKey implements helpdesk.IdempotencyStore with the
// completion's update alone.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, done *helpdesk.Completion) error {
	u, err := s.completion(done)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	switch {
	case err == nil:
		return nil
	case !isConditionFailed(err):
		return translate(err, "complete idempotency key")
	}
	// Either an earlier attempt of this update landed (its answer lost,
	// the SDK retried), or the claim was lost.
	ours, err := s.completedBy(ctx, done.Claim)
	switch {
	case err != nil:
		return err
	case !ours:
		return errClaimLost
	}
	return nil
}

// completedBy reports whether c's key has been completed by c itself.
func (s *Store) completedBy(ctx context.Context, c *helpdesk.IdempotencyClaim) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: idempotencyKey(c), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#st, #tok"), ExpressionAttributeNames: map[string]string{"#st": "state", "#tok": "token"},
	})
	if err != nil {
		return false, translate(err, "read idempotency key")
	}
	var it idempotencyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return false, fmt.Errorf("unmarshal idempotency key: %w", err)
	}
	return it.State == stateCompleted && it.Token == c.Token, nil
}

// transact writes items in one transaction, with done's completion when
// done is set. For a transaction cancelled by the items' own conditions it
// returns the cancellation reason of each item and no error. A failed
// completion means either that an earlier attempt of this very transaction
// landed (its answer lost, the SDK retried), which is success, or that the
// claim was lost.
func (s *Store) transact(ctx context.Context, what string, items []types.TransactWriteItem, done *helpdesk.Completion) ([]types.CancellationReason, error) {
	n := len(items)
	if done != nil {
		u, err := s.completion(done)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Update: u})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	switch {
	case err == nil:
		return nil, nil
	case !errors.As(err, &tce) || len(tce.CancellationReasons) != len(items) || !slices.ContainsFunc(tce.CancellationReasons, conditionFailed):
		return nil, translate(err, "%s", what)
	case done != nil && conditionFailed(tce.CancellationReasons[n]):
		ours, err := s.completedBy(ctx, done.Claim)
		if err != nil {
			return nil, err
		}
		if ours {
			return nil, nil
		}
		return nil, errClaimLost
	}
	return tce.CancellationReasons[:n], nil
}

// conditionFailed reports whether a transaction item was cancelled by its
// own condition.
func conditionFailed(r types.CancellationReason) bool {
	return aws.ToString(r.Code) == "ConditionalCheckFailed"
}
