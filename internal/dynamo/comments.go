package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var _ helpdesk.CommentStore = (*Store)(nil)

// A comment lives in its ticket's partition, under the sort key
// "COMMENT#" and its id. Ids sort by creation, so a page of a
// conversation, either way, is one Query of that partition with no filter;
// and a comment is in no index, so it costs no index write.
const kindComment = "COMMENT"

var errCommentNotFound = helpdesk.Errorf(helpdesk.CodeNotFound, "Comment not found.")

// commentItem is a comment as stored.
type commentItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"id"`
	TicketID    string `dynamodbav:"ticketId"`
	Body        string `dynamodbav:"body"`
	Public      bool   `dynamodbav:"public"`
	AuthorID    string `dynamodbav:"authorId,omitempty"`
	AuthorEmail string `dynamodbav:"authorEmail,omitempty"`
	AuthorName  string `dynamodbav:"authorName,omitempty"`
	CreatedAt   string `dynamodbav:"createdAt"`
	RedactedAt  string `dynamodbav:"redactedAt,omitempty"`
	// Attachments is removed when the comment is redacted.
	Attachments []attachmentItem `dynamodbav:"attachments,omitempty"`
	actorAttrs
}

// attrAttachments holds a comment's attachments.
const attrAttachments = "attachments"

// attachmentItem is an attachment as its comment stores it.
type attachmentItem struct {
	ID          string `dynamodbav:"id"`
	Filename    string `dynamodbav:"filename"`
	ContentType string `dynamodbav:"contentType"`
	Size        int64  `dynamodbav:"size"`
	UploadID    string `dynamodbav:"uploadId"`
}

func commentKey(ticketID, commentID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(TicketKeyPrefix + ticketID),
		attrSK: str(kindComment + "#" + commentID),
	}
}

func marshalComment(c *helpdesk.Comment) (map[string]types.AttributeValue, error) {
	it := commentItem{
		PK: TicketKeyPrefix + c.TicketID, SK: kindComment + "#" + c.ID,
		ID: c.ID, TicketID: c.TicketID, Body: c.Body, Public: c.Public,
		AuthorID: c.AuthorID, AuthorEmail: c.AuthorEmail, AuthorName: c.AuthorName,
		CreatedAt: formatTime(c.CreatedAt), actorAttrs: actorOf(c.ChangedBy),
	}
	if c.Redacted() {
		it.RedactedAt = formatTime(c.RedactedAt)
	}
	for _, a := range c.Attachments {
		it.Attachments = append(it.Attachments, attachmentItem{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, UploadID: a.UploadID})
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal comment %s: %w", c.ID, err)
	}
	return av, nil
}

func unmarshalComment(av map[string]types.AttributeValue) (*helpdesk.Comment, error) {
	var it commentItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("unmarshal comment: %w", err)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("comment %s createdAt: %w", it.ID, err)
	}
	redacted, err := parseTime(it.RedactedAt)
	if err != nil {
		return nil, fmt.Errorf("comment %s redactedAt: %w", it.ID, err)
	}
	c := &helpdesk.Comment{
		ID: it.ID, TicketID: it.TicketID, Body: it.Body, Public: it.Public,
		AuthorID: it.AuthorID, AuthorEmail: it.AuthorEmail, AuthorName: it.AuthorName,
		CreatedAt: created, RedactedAt: redacted, ChangedBy: it.actor(),
	}
	for _, a := range it.Attachments {
		c.Attachments = append(c.Attachments, helpdesk.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, UploadID: a.UploadID})
	}
	return c, nil
}

// AddComment implements helpdesk.CommentStore: one transaction puts the
// comment (its key must be free) and the ticket (its version must still be
// the one read), marks the attachments' uploads attached (attachUploads),
// with done's completion. A transaction bills each write
// twice; docs/table-design.md weighs that against two plain writes.
func (s *Store) AddComment(ctx context.Context, c *helpdesk.Comment, t *helpdesk.Ticket, done *helpdesk.Completion) error {
	comment, err := marshalComment(c)
	if err != nil {
		return err
	}
	t.Version++
	ticket, err := marshalTicket(t)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(s.table), Item: comment,
			ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{
			TableName: aws.String(s.table), Item: ticket,
			ConditionExpression:                 aws.String("ver = :v"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": number(t.Version - 1)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}
	items = append(items, attachUploads(s.table, c)...)
	failed, err := s.transact(ctx, "add comment "+c.ID, items, done)
	if err != nil || failed == nil {
		return err
	}
	switch {
	case conditionFailed(failed[0]) && sameCreation(failed[0].Item, c.CreatedAt):
		return nil // an earlier attempt landed; only its answer was lost
	case conditionFailed(failed[1]) && failed[1].Item == nil:
		return errTicketNotFound
	case slices.ContainsFunc(failed[2:], conditionFailed):
		return uploadRefusals(c, failed[2:])
	default:
		return helpdesk.ErrTicketMoved
	}
}

// Comment implements helpdesk.CommentStore with one BatchGetItem of the
// comment and its ticket, strongly consistent: a deleted ticket's comments
// are purged after it (see PurgeComments), and must not be found between.
func (s *Store) Comment(ctx context.Context, ticketID, commentID string) (*helpdesk.Comment, error) {
	items, err := s.batchGet(ctx, "get comment "+commentID, []map[string]types.AttributeValue{itemKey(kindTicket, ticketID), commentKey(ticketID, commentID)}, "")
	if err != nil {
		return nil, err
	}
	var comment map[string]types.AttributeValue
	ticket := false
	for _, item := range items {
		if sk, _ := item[attrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == kindTicket {
			ticket = true
		} else {
			comment = item
		}
	}
	switch {
	case !ticket:
		return nil, errTicketNotFound
	case comment == nil:
		return nil, errCommentNotFound
	}
	return unmarshalComment(comment)
}

// commentBinding is what a comment cursor is bound to: the ticket, the
// order and the public filter.
func commentBinding(q helpdesk.CommentQuery) string {
	public := ""
	if q.Public != nil {
		public = fmt.Sprint(*q.Public)
	}
	return strings.Join([]string{"comments/v1", q.TicketID, string(q.Order), public}, "\x00")
}

// ListComments implements helpdesk.CommentStore: one Query of the ticket's
// partition, reading one comment past the page, and, at the same time, a
// read of the ticket, so that a deleted ticket's comments, purged after
// it, are never listed.
func (s *Store) ListComments(ctx context.Context, q helpdesk.CommentQuery) (*helpdesk.CommentPage, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(TicketKeyPrefix + q.TicketID), ":c": str(kindComment + "#")},
		ScanIndexForward:          aws.Bool(q.Order != helpdesk.Desc),
	}
	if q.Public != nil {
		in.FilterExpression = aws.String("#public = :public")
		in.ExpressionAttributeNames = map[string]string{"#public": "public"}
		in.ExpressionAttributeValues[":public"] = &types.AttributeValueMemberBOOL{Value: *q.Public}
	}
	if q.After != "" {
		start, err := s.openCommentCursor(ctx, q)
		if err != nil {
			return nil, err
		}
		in.ExclusiveStartKey = start
	}
	var ticketErr error
	var wg sync.WaitGroup
	wg.Go(func() { ticketErr = s.ticketExists(ctx, q.TicketID) })
	items, stats, err := s.queryPage(ctx, in, q.PageSize+1)
	wg.Wait()
	if ticketErr != nil {
		return nil, ticketErr
	}
	if err != nil {
		return nil, translate(err, "list comments of %s", q.TicketID)
	}
	page := &helpdesk.CommentPage{Comments: make([]*helpdesk.Comment, 0, min(len(items), q.PageSize))}
	for _, it := range items[:min(len(items), q.PageSize)] {
		c, err := unmarshalComment(it)
		if err != nil {
			return nil, err
		}
		page.Comments = append(page.Comments, c)
	}
	if len(items) > q.PageSize {
		last := page.Comments[len(page.Comments)-1]
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		page.Next = codec.Seal(commentBinding(q), []byte(last.ID))
	}
	stats.Returned = len(page.Comments)
	if s.ObserveComments != nil {
		s.ObserveComments(stats)
	}
	return page, nil
}

// CommentPageStats is what one page of a conversation read, as DynamoDB
// reported it: its read amplification is Scanned ÷ Returned. (Its read
// units are measured around the store, by dynamotest.Metered.)
type CommentPageStats struct {
	Scanned  int // items DynamoDB read (ScannedCount)
	Returned int // comments on the page
}

// queryPage runs in until it has want items or the partition ends: a
// filter can leave a call's page short.
func (s *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, want int) ([]map[string]types.AttributeValue, CommentPageStats, error) {
	var items []map[string]types.AttributeValue
	var stats CommentPageStats
	for {
		in.Limit = aws.Int32(int32(want - len(items)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, stats, err
		}
		stats.Scanned += int(out.ScannedCount)
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil || len(items) >= want {
			break
		}
		// A new input for the next call: a call's input is not changed
		// after it was made (the benchmarks replay what was sent).
		next := *in
		next.ExclusiveStartKey = out.LastEvaluatedKey
		in = &next
	}
	return items, stats, nil
}

func (s *Store) openCommentCursor(ctx context.Context, q helpdesk.CommentQuery) (map[string]types.AttributeValue, error) {
	codec, err := s.cursors(ctx)
	if err != nil {
		return nil, err
	}
	state, err := codec.Open(commentBinding(q), q.After)
	if err != nil || !helpdesk.ValidCommentID(string(state)) {
		return nil, errBadCursor
	}
	return commentKey(q.TicketID, string(state)), nil
}

// ticketExists reads only the key of a ticket, eventually consistent:
// CodeNotFound if there is none.
func (s *Store) ticketExists(ctx context.Context, id string) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindTicket, id), ProjectionExpression: aws.String("pk"),
	})
	if err != nil {
		return translate(err, "get ticket %s", id)
	}
	if out.Item == nil {
		return errTicketNotFound
	}
	return nil
}

// RedactComment implements helpdesk.CommentStore: a transaction that
// empties the body and removes the attachments (unless the comment is redacted already) on condition
// that the ticket exists, since a deleted ticket's comments linger until
// they are purged. A comment redacted already is read and returned.
func (s *Store) RedactComment(ctx context.Context, ticketID, commentID string, redaction helpdesk.Stamp) (*helpdesk.Comment, error) {
	by := actorOf(redaction.By)
	items := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: itemKey(kindTicket, ticketID),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: commentKey(ticketID, commentID),
			UpdateExpression:    aws.String("SET body = :empty, redactedAt = :at, byType = :bt, byId = :bi, byName = :bn REMOVE " + attrAttachments),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(redactedAt)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":empty": str(""), ":at": str(formatTime(redaction.At)),
				":bt": str(by.ByType), ":bi": str(by.ByID), ":bn": str(by.ByName),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}
	failed, err := s.transact(ctx, "redact comment "+commentID, items, nil)
	switch {
	case err != nil:
		return nil, err
	case failed == nil:
		return s.Comment(ctx, ticketID, commentID)
	case conditionFailed(failed[0]):
		return nil, errTicketNotFound
	case failed[1].Item == nil:
		return nil, errCommentNotFound
	}
	// Redacted already (by an earlier attempt whose answer was lost, or by
	// anyone): nothing changes.
	return unmarshalComment(failed[1].Item)
}

// PurgeComments deletes every comment of a purged ticket and returns how
// many it deleted. The stream consumer calls it for each purge; it is
// idempotent, so a redelivered record purges nothing twice.
func (s *Store) PurgeComments(ctx context.Context, ticketID string) (int, error) {
	keys, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(TicketKeyPrefix + ticketID), ":c": str(kindComment + "#")},
		ProjectionExpression:      aws.String("pk, sk"),
	})
	if err != nil {
		return 0, err
	}
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return 0, fmt.Errorf("purge comments of %s: %w", ticketID, err)
	}
	return len(keys), nil
}

// PurgeRemovedTickets purges what the purges of a stream batch leave
// behind (see PurgeOf): the comments (PurgeComments) and the history
// (PurgeHistory) of each purged ticket. It returns the sequence numbers of
// the records whose purge failed, for the stream to deliver again. A
// ticket's removal into the trash, and the restore that takes it out,
// purge nothing.
func (s *Store) PurgeRemovedTickets(ctx context.Context, batch events.DynamoDBEvent) []string {
	var failed []string
	for _, rec := range batch.Records {
		// A record that cannot be decoded never will be; the dispatcher
		// logs it (webhook.Dispatcher.HandleStream).
		id, _, ok, err := PurgeOf(rec)
		if err != nil || !ok {
			continue
		}
		if _, err = s.PurgeComments(ctx, id); err == nil {
			_, err = s.PurgeHistory(ctx, id)
		}
		if err != nil {
			failed = append(failed, rec.Change.SequenceNumber)
		}
	}
	return failed
}
