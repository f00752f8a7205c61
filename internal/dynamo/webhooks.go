package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Entity kinds of the webhook items.
const (
	kindWebhook  = "WEBHOOK"
	kindEvent    = "EVENT"
	kindDelivery = "DELIVERY"
	attemptSK    = "ATTEMPT#"
	dueQueue     = "DUE"
)

// Retention of webhook records, enforced by the table's TTL. Events are
// not among them: they are the tickets' histories, kept while the ticket
// is and purged after (see PurgeHistory).
const (
	attemptRetention  = 30 * 24 * time.Hour
	deliveryRetention = 7 * 24 * time.Hour // longer than the retry schedule
)

var _ helpdesk.WebhookStore = (*Store)(nil)

var (
	errWebhookNotFound = helpdesk.Errorf(helpdesk.CodeNotFound, "Webhook not found.")
	errWebhookExists   = helpdesk.Errorf(helpdesk.CodeConflict, "A webhook with this id exists.")
	errEventNotFound   = helpdesk.Errorf(helpdesk.CodeNotFound, "Event not found; a deleted ticket's events are kept for 30 days after its deletion.")
)

type webhookItem struct {
	PK                    string   `dynamodbav:"pk"`
	SK                    string   `dynamodbav:"sk"`
	Kind                  string   `dynamodbav:"ix_kind"`
	Created               string   `dynamodbav:"ix_c"`
	ID                    string   `dynamodbav:"id"`
	URL                   string   `dynamodbav:"url"`
	Events                []string `dynamodbav:"events"`
	Description           string   `dynamodbav:"description"`
	Status                string   `dynamodbav:"status"`
	Secret                string   `dynamodbav:"secret"`
	PreviousSecret        string   `dynamodbav:"previousSecret,omitempty"`
	PreviousSecretExpires string   `dynamodbav:"previousSecretExpires,omitempty"`
	FailingSince          string   `dynamodbav:"failingSince,omitempty"`
	CreatedAt             string   `dynamodbav:"createdAt"`
	UpdatedAt             string   `dynamodbav:"updatedAt"`
	Version               int64    `dynamodbav:"ver"`
}

func optionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func marshalWebhook(w *helpdesk.Webhook) (map[string]types.AttributeValue, error) {
	created := formatTime(w.CreatedAt)
	av, err := attributevalue.MarshalMap(webhookItem{
		PK: kindWebhook + "#" + w.ID, SK: kindWebhook, Kind: kindWebhook, Created: joinKey(created, w.ID),
		ID: w.ID, URL: w.URL, Events: append([]string{}, w.Events...), Description: w.Description, Status: string(w.Status),
		Secret: w.Secret, PreviousSecret: w.PreviousSecret, PreviousSecretExpires: optionalTime(w.PreviousSecretExpires),
		FailingSince: optionalTime(w.FailingSince), CreatedAt: created, UpdatedAt: formatTime(w.UpdatedAt), Version: w.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal webhook %s: %w", w.ID, err)
	}
	return av, nil
}

func unmarshalWebhook(av map[string]types.AttributeValue) (*helpdesk.Webhook, error) {
	var it webhookItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("unmarshal webhook: %w", err)
	}
	w := &helpdesk.Webhook{
		ID: it.ID, URL: it.URL, Events: it.Events, Description: it.Description, Status: helpdesk.WebhookStatus(it.Status),
		Secret: it.Secret, PreviousSecret: it.PreviousSecret, Version: it.Version,
	}
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&w.PreviousSecretExpires, it.PreviousSecretExpires}, {&w.FailingSince, it.FailingSince}, {&w.CreatedAt, it.CreatedAt}, {&w.UpdatedAt, it.UpdatedAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", it.ID, err)
		}
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	return w, nil
}

// CreateWebhook implements helpdesk.WebhookStore with one conditional put,
// or a transaction with done's completion.
func (s *Store) CreateWebhook(ctx context.Context, w *helpdesk.Webhook, done *helpdesk.Completion) error {
	w.Version = 1
	item, err := marshalWebhook(w)
	if err != nil {
		return err
	}
	return s.create(ctx, "webhook "+w.ID, item, w.CreatedAt, done, errWebhookExists)
}

// Webhook implements helpdesk.WebhookStore.
func (s *Store) Webhook(ctx context.Context, id string) (*helpdesk.Webhook, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(kindWebhook, id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, translate(err, "get webhook %s", id)
	}
	if out.Item == nil {
		return nil, errWebhookNotFound
	}
	return unmarshalWebhook(out.Item)
}

// ListWebhooks implements helpdesk.WebhookStore.
func (s *Store) ListWebhooks(ctx context.Context) ([]*helpdesk.Webhook, error) {
	items, err := s.queryAll(ctx, s.kindQuery(kindWebhook))
	if err != nil {
		return nil, err
	}
	hooks := make([]*helpdesk.Webhook, 0, len(items))
	for _, item := range items {
		w, err := unmarshalWebhook(item)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, w)
	}
	return hooks, nil
}

// UpdateWebhook implements helpdesk.WebhookStore.
func (s *Store) UpdateWebhook(ctx context.Context, id string, fn func(*helpdesk.Webhook) (bool, error)) (*helpdesk.Webhook, error) {
	for attempt := range maxAttempts {
		w, err := s.Webhook(ctx, id)
		if err != nil {
			return nil, err
		}
		changed, err := fn(w)
		if err != nil || !changed {
			return w, err
		}
		w.Version++
		item, err := marshalWebhook(w)
		if err != nil {
			return nil, err
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("ver = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(w.Version-1, 10)}},
		})
		switch {
		case err == nil:
			return w, nil
		case isConditionFailed(err):
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
		default:
			return nil, translate(err, "put webhook %s", id)
		}
	}
	return nil, errContention
}

// DeleteWebhook implements helpdesk.WebhookStore. Its pending deliveries
// are dropped when they come due; its log expires.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindWebhook, id), ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return errWebhookNotFound
	}
	if err != nil {
		return translate(err, "delete webhook %s", id)
	}
	return nil
}

// eventItem is a recorded event: what webhooks deliver and replay, and
// an entry of the feed and of its ticket's history (see activity.go).
type eventItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ID        string `dynamodbav:"id"`
	Type      string `dynamodbav:"type"`
	Packed    []byte `dynamodbav:"bodyz"` // see packed.go
	CreatedAt string `dynamodbav:"createdAt"`
	TicketID  string `dynamodbav:"ix_tkt"`
	Order     string `dynamodbav:"order"`
	Feed      string `dynamodbav:"ix_feed"`
	Pos       string `dynamodbav:"ix_pos"`
}

type deliveryItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Queue     string `dynamodbav:"ix_dueq"`
	Due       string `dynamodbav:"ix_due"`
	WebhookID string `dynamodbav:"webhookId"`
	EventID   string `dynamodbav:"eventId"`
	Attempts  int    `dynamodbav:"attempts"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func deliveryKey(d *helpdesk.Delivery) map[string]types.AttributeValue {
	return itemKey(kindDelivery, d.WebhookID+"#"+d.EventID)
}

func dueValue(d *helpdesk.Delivery) string { return joinKey(formatTime(d.Due), d.WebhookID, d.EventID) }

func marshalDelivery(d *helpdesk.Delivery) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(deliveryItem{
		PK: kindDelivery + "#" + d.WebhookID + "#" + d.EventID, SK: kindDelivery, Queue: dueQueue, Due: dueValue(d),
		WebhookID: d.WebhookID, EventID: d.EventID, Attempts: d.Attempts, ExpiresAt: d.Due.Add(deliveryRetention).Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal delivery: %w", err)
	}
	return av, nil
}

// RecordEvents implements helpdesk.WebhookStore: one consistent batch
// read finds the events recorded and the deliveries pending already (a
// batch the stream delivers again), then batch writes store the rest:
// the events first (see writeEvents), which keep the positions they were
// first given, then the deliveries.
func (s *Store) RecordEvents(ctx context.Context, events []*helpdesk.StoredEvent, deliveries []*helpdesk.Delivery) ([]*helpdesk.Delivery, error) {
	// A batch can hold one change twice (a record delivered twice, say),
	// and DynamoDB refuses a batch read or write that names a key twice:
	// the first of each is the one recorded.
	events = firstOf(events, func(e *helpdesk.StoredEvent) string { return e.ID })
	deliveries = firstOf(deliveries, func(d *helpdesk.Delivery) string { return d.WebhookID + "#" + d.EventID })
	keys := make([]map[string]types.AttributeValue, 0, len(events)+len(deliveries))
	for _, e := range events {
		keys = append(keys, itemKey(kindEvent, e.ID))
	}
	for _, d := range deliveries {
		keys = append(keys, deliveryKey(d))
	}
	found, err := s.recordedKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	var fresh []*helpdesk.StoredEvent
	for _, e := range events {
		if !found[kindEvent+"#"+e.ID] {
			fresh = append(fresh, e)
		}
	}
	if err := s.writeEvents(ctx, fresh); err != nil {
		return nil, fmt.Errorf("record events: %w", err)
	}
	var writes []types.WriteRequest
	var pending []*helpdesk.Delivery
	for _, d := range deliveries {
		if found[kindDelivery+"#"+d.WebhookID+"#"+d.EventID] {
			continue
		}
		item, err := marshalDelivery(d)
		if err != nil {
			return nil, err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		pending = append(pending, d)
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return nil, fmt.Errorf("record deliveries: %w", err)
	}
	return pending, nil
}

// firstOf returns xs without the later of any two with the same key.
func firstOf[T any](xs []T, key func(T) string) []T {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

// batchWrite writes in batches of 25, retrying what DynamoDB leaves
// unprocessed.
func (s *Store) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	for len(writes) > 0 {
		batch := writes[:min(len(writes), 25)]
		writes = writes[len(batch):]
		req := map[string][]types.WriteRequest{s.table: batch}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return translate(err, "batch write")
			}
			req = out.UnprocessedItems
		}
	}
	return nil
}

// Event implements helpdesk.WebhookStore.
func (s *Store) Event(ctx context.Context, id string) (*helpdesk.StoredEvent, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(kindEvent, id)})
	if err != nil {
		return nil, translate(err, "get event %s", id)
	}
	if out.Item == nil {
		return nil, errEventNotFound
	}
	var it eventItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("unmarshal event %s: %w", id, err)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	body, err := eventBody(out.Item)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return &helpdesk.StoredEvent{ID: it.ID, Type: it.Type, Body: body, CreatedAt: created, TicketID: it.TicketID, Order: it.Order}, nil
}

// ReplaceEventBody replaces the body of a recorded event, if it is still
// kept (a redacted comment's ticket.comment.created, so that a retry or a
// replay no longer sends what was redacted). CodeNotFound if it is not.
func (s *Store) ReplaceEventBody(ctx context.Context, id string, body []byte) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindEvent, id),
		UpdateExpression:          aws.String("SET #packed = :b REMOVE #body"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#packed": attrPacked, "#body": attrBody},
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberB{Value: pack(body)}},
	})
	switch {
	case isConditionFailed(err):
		return errEventNotFound
	case err != nil:
		return translate(err, "replace the body of event %s", id)
	}
	return nil
}

// DueDeliveries implements helpdesk.WebhookStore with one Query on the due
// index.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*helpdesk.Delivery, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(dueIndex.Name),
		KeyConditionExpression:   aws.String("#q = :q AND #d <= :now"),
		ExpressionAttributeNames: map[string]string{"#q": attrDueQueue, "#d": attrDue},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q": &types.AttributeValueMemberS{Value: dueQueue}, ":now": &types.AttributeValueMemberS{Value: formatTime(now) + "#~"},
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, translate(err, "query due deliveries")
	}
	due := make([]*helpdesk.Delivery, 0, len(out.Items))
	for _, item := range out.Items {
		var it deliveryItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("unmarshal delivery: %w", err)
		}
		at, err := parseTime(strings.SplitN(it.Due, "#", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("delivery %s: %w", it.PK, err)
		}
		due = append(due, &helpdesk.Delivery{WebhookID: it.WebhookID, EventID: it.EventID, Attempts: it.Attempts, Due: at})
	}
	return due, nil
}

// ClaimDelivery implements helpdesk.WebhookStore with a conditional update.
func (s *Store) ClaimDelivery(ctx context.Context, d *helpdesk.Delivery, until time.Time) (bool, error) {
	claimed := *d
	claimed.Due = until
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: deliveryKey(d),
		UpdateExpression:         aws.String("SET #d = :new"),
		ConditionExpression:      aws.String("#d = :old"),
		ExpressionAttributeNames: map[string]string{"#d": attrDue},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new": &types.AttributeValueMemberS{Value: dueValue(&claimed)}, ":old": &types.AttributeValueMemberS{Value: dueValue(d)},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, translate(err, "claim delivery")
	}
	d.Due = until
	return true, nil
}

type attemptItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	WebhookID  string `dynamodbav:"webhookId"`
	EventID    string `dynamodbav:"eventId"`
	EventType  string `dynamodbav:"eventType"`
	Attempt    int    `dynamodbav:"attempt"`
	StatusCode int    `dynamodbav:"statusCode"`
	DurationMS int64  `dynamodbav:"durationMs"`
	Error      string `dynamodbav:"error,omitempty"`
	Response   string `dynamodbav:"response,omitempty"`
	At         string `dynamodbav:"at"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
}

// FinishAttempts implements helpdesk.WebhookStore with batch writes: two
// per attempt (the log entry; the delivery rescheduled or deleted). Were a
// log entry written and its delivery's write lost, the delivery would only
// be attempted again, with the same webhook-id.
func (s *Store) FinishAttempts(ctx context.Context, done []helpdesk.Finished) error {
	writes := make([]types.WriteRequest, 0, 2*len(done))
	for _, f := range done {
		a := f.Attempt
		log, err := attributevalue.MarshalMap(attemptItem{
			PK: kindWebhook + "#" + a.WebhookID, SK: attemptSK + joinKey(formatTime(a.At), a.EventID, strconv.Itoa(a.Attempt)),
			WebhookID: a.WebhookID, EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt, StatusCode: a.StatusCode,
			DurationMS: a.Duration.Milliseconds(), Error: a.Error, Response: a.Response, At: formatTime(a.At),
			ExpiresAt: a.At.Add(attemptRetention).Unix(),
		})
		if err != nil {
			return fmt.Errorf("marshal attempt: %w", err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: log}})
		if f.Next.IsZero() {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: deliveryKey(f.Delivery)}})
			continue
		}
		rescheduled := *f.Delivery
		rescheduled.Due, rescheduled.Attempts = f.Next, a.Attempt
		item, err := marshalDelivery(&rescheduled)
		if err != nil {
			return err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("finish %d attempts: %w", len(done), err)
	}
	return nil
}

// ScheduleDelivery implements helpdesk.WebhookStore.
func (s *Store) ScheduleDelivery(ctx context.Context, d *helpdesk.Delivery) error {
	item, err := marshalDelivery(d)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return translate(err, "schedule delivery")
	}
	return nil
}

type attemptPosition struct {
	SK string `json:"k"`
}

// ListAttempts implements helpdesk.WebhookStore with one Query of the
// subscription's partition.
func (s *Store) ListAttempts(ctx context.Context, webhookID string, pageSize int, after string) (*helpdesk.AttemptPage, error) {
	binding := "deliveries/v1\x00" + webhookID
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: kindWebhook + "#" + webhookID}, ":sk": &types.AttributeValueMemberS{Value: attemptSK},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(pageSize + 1)),
	}
	if after != "" {
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := codec.Open(binding, after)
		var pos attemptPosition
		if err != nil || json.Unmarshal(state, &pos) != nil || !strings.HasPrefix(pos.SK, attemptSK) {
			return nil, errBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: kindWebhook + "#" + webhookID}, attrSK: &types.AttributeValueMemberS{Value: pos.SK},
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, translate(err, "query attempts of %s", webhookID)
	}
	page := &helpdesk.AttemptPage{Attempts: []*helpdesk.Attempt{}}
	var lastSK string
	for _, item := range out.Items[:min(len(out.Items), pageSize)] {
		var it attemptItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("unmarshal attempt: %w", err)
		}
		at, err := parseTime(it.At)
		if err != nil {
			return nil, fmt.Errorf("attempt %s: %w", it.SK, err)
		}
		lastSK = it.SK
		page.Attempts = append(page.Attempts, &helpdesk.Attempt{
			WebhookID: it.WebhookID, EventID: it.EventID, EventType: it.EventType, Attempt: it.Attempt, StatusCode: it.StatusCode,
			Duration: time.Duration(it.DurationMS) * time.Millisecond, Error: it.Error, Response: it.Response, At: at,
		})
	}
	if len(out.Items) > pageSize {
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := json.Marshal(attemptPosition{SK: lastSK})
		if err != nil {
			return nil, fmt.Errorf("encode cursor: %w", err)
		}
		page.Next = codec.Seal(binding, state)
	}
	return page, nil
}
