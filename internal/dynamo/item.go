package dynamo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Entity kinds, the values of ix_kind and the prefixes of pk.
const (
	kindTicket = "TICKET"
	kindField  = "FIELD"
	kindName   = "FIELDNAME"
	kindKey    = "KEY"
)

// TicketKeyPrefix starts the partition key of every ticket item. The
// stack's stream filter matches on it, so that the dispatch function is
// invoked only for ticket records, and IsTicketKey checks it again.
const TicketKeyPrefix = kindTicket + "#"

func formatTime(t time.Time) string { return t.UTC().Format(helpdesk.TimeLayout) }

// parseTime reads a time the store wrote. Only the exact text formatTime
// makes is accepted: time.Parse also takes, say, a one-digit hour or a
// comma before the fraction, which would come back out as other text, so
// that an item read and shown would not say what it holds.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(helpdesk.TimeLayout, s)
	if err == nil && formatTime(t) != s {
		err = fmt.Errorf("time %q is not in the form %s", s, helpdesk.TimeLayout)
	}
	return t, err
}

func itemKey(kind, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: kind + "#" + id},
		attrSK: &types.AttributeValueMemberS{Value: kind},
	}
}

// ticketItem is a ticket as stored. Its ix_* attributes are derived from
// the ticket on every write, so the indexes follow the ticket.
type ticketItem struct {
	PK             string      `dynamodbav:"pk"`
	SK             string      `dynamodbav:"sk"`
	Kind           string      `dynamodbav:"ix_kind"`
	Created        string      `dynamodbav:"ix_c"`
	Updated        string      `dynamodbav:"ix_u"`
	IxStatus       string      `dynamodbav:"ix_status"`
	IxSP           string      `dynamodbav:"ix_sp"`
	IxAS           string      `dynamodbav:"ix_asgs,omitempty"`
	ID             string      `dynamodbav:"id"`
	Subject        string      `dynamodbav:"subject"`
	Status         string      `dynamodbav:"status"`
	Priority       string      `dynamodbav:"priority"`
	Type           string      `dynamodbav:"type"`
	AssigneeID     string      `dynamodbav:"assigneeId,omitempty"`
	RequesterEmail string      `dynamodbav:"requesterEmail,omitempty"`
	RequesterName  string      `dynamodbav:"requesterName,omitempty"`
	Tags           []string    `dynamodbav:"tags"`
	CustomFields   []valueItem `dynamodbav:"customFields"`
	CreatedAt      string      `dynamodbav:"createdAt"`
	UpdatedAt      string      `dynamodbav:"updatedAt"`
	Version        int64       `dynamodbav:"ver"`
	Comments       int         `dynamodbav:"comments,omitempty"`
	actorAttrs
}

type valueItem struct {
	ID    string `dynamodbav:"id"`
	Value any    `dynamodbav:"value"`
}

// joinKey joins the parts of a composite key value.
func joinKey(parts ...string) string { return strings.Join(parts, "#") }

func marshalTicket(t *helpdesk.Ticket) (map[string]types.AttributeValue, error) {
	created, updated := formatTime(t.CreatedAt), formatTime(t.UpdatedAt)
	it := ticketItem{
		PK: kindTicket + "#" + t.ID, SK: kindTicket, Kind: kindTicket,
		Created:  joinKey(created, t.ID),
		Updated:  joinKey(updated, created, t.ID),
		IxStatus: string(t.Status),
		IxSP:     joinKey(string(t.Status), string(t.Priority)),
		ID:       t.ID, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority), Type: string(t.Type),
		AssigneeID: t.AssigneeID, RequesterEmail: t.RequesterEmail, RequesterName: t.RequesterName,
		Tags:      slices.Clip(append([]string{}, t.Tags...)),
		CreatedAt: created, UpdatedAt: updated, Version: t.Version, Comments: t.Comments,
		CustomFields: make([]valueItem, len(t.CustomFields)),
		actorAttrs:   actorOf(t.ChangedBy),
	}
	if t.AssigneeID != "" {
		it.IxAS = joinKey(t.AssigneeID, string(t.Status))
	}
	for i, v := range t.CustomFields {
		it.CustomFields[i] = valueItem{ID: v.ID, Value: v.Value}
		if n, ok := v.Value.(helpdesk.Number); ok {
			// An N attribute, of the exact decimal: ParseNumber admitted
			// only what DynamoDB holds.
			it.CustomFields[i].Value = attributevalue.Number(n)
		}
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal ticket %s: %w", t.ID, err)
	}
	return av, nil
}

func unmarshalTicket(av map[string]types.AttributeValue) (*helpdesk.Ticket, error) {
	var it ticketItem
	// Numbers in values stay decimal strings (attributevalue.Number), not
	// float64s, which would round them.
	if err := attributevalue.UnmarshalMapWithOptions(av, &it, func(o *attributevalue.DecoderOptions) { o.UseNumber = true }); err != nil {
		return nil, fmt.Errorf("unmarshal ticket: %w", err)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("ticket %s createdAt: %w", it.ID, err)
	}
	updated, err := parseTime(it.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("ticket %s updatedAt: %w", it.ID, err)
	}
	t := &helpdesk.Ticket{
		ID: it.ID, Subject: it.Subject, Status: helpdesk.Status(it.Status),
		Priority: helpdesk.Priority(it.Priority), Type: helpdesk.Type(it.Type),
		AssigneeID: it.AssigneeID, RequesterEmail: it.RequesterEmail, RequesterName: it.RequesterName,
		Tags: it.Tags, CreatedAt: created, UpdatedAt: updated, Version: it.Version, Comments: it.Comments,
		CustomFields: make([]helpdesk.CustomFieldValue, len(it.CustomFields)),
		ChangedBy:    it.actor(),
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	for i, v := range it.CustomFields {
		t.CustomFields[i] = helpdesk.CustomFieldValue{ID: v.ID, Value: v.Value}
		if n, ok := v.Value.(attributevalue.Number); ok {
			// Canonical again: DynamoDB spells numbers its own way, and
			// values stored as float64s before Numbers read the same.
			if t.CustomFields[i].Value, err = helpdesk.ParseNumber(string(n)); err != nil {
				return nil, fmt.Errorf("ticket %s custom field %s: number %q: %w", it.ID, v.ID, n, err)
			}
		}
	}
	return t, nil
}

// fieldItem is a custom field definition as stored.
type fieldItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	Kind      string   `dynamodbav:"ix_kind"`
	Created   string   `dynamodbav:"ix_c"`
	ID        string   `dynamodbav:"id"`
	Name      string   `dynamodbav:"name"`
	Type      string   `dynamodbav:"type"`
	Options   []string `dynamodbav:"options"`
	CreatedAt string   `dynamodbav:"createdAt"`
	UpdatedAt string   `dynamodbav:"updatedAt"`
	Version   int64    `dynamodbav:"ver"`
}

// nameItem reserves a custom field name (case-insensitively) for one
// definition.
type nameItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	FieldID string `dynamodbav:"fieldId"`
}

func nameKeyID(name string) string { return strings.ToLower(name) }

func marshalField(f *helpdesk.CustomField) (map[string]types.AttributeValue, error) {
	created := formatTime(f.CreatedAt)
	it := fieldItem{
		PK: kindField + "#" + f.ID, SK: kindField, Kind: kindField, Created: joinKey(created, f.ID),
		ID: f.ID, Name: f.Name, Type: string(f.Type), Options: append([]string{}, f.Options...),
		CreatedAt: created, UpdatedAt: formatTime(f.UpdatedAt), Version: f.Version,
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal custom field %s: %w", f.ID, err)
	}
	return av, nil
}

func marshalName(f *helpdesk.CustomField) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(nameItem{PK: kindName + "#" + nameKeyID(f.Name), SK: kindName, FieldID: f.ID})
	if err != nil {
		return nil, fmt.Errorf("marshal custom field name: %w", err)
	}
	return av, nil
}

func unmarshalField(av map[string]types.AttributeValue) (*helpdesk.CustomField, error) {
	var it fieldItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("unmarshal custom field: %w", err)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("custom field %s createdAt: %w", it.ID, err)
	}
	updated, err := parseTime(it.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("custom field %s updatedAt: %w", it.ID, err)
	}
	f := &helpdesk.CustomField{
		ID: it.ID, Name: it.Name, Type: helpdesk.FieldType(it.Type), Options: it.Options,
		CreatedAt: created, UpdatedAt: updated, Version: it.Version,
	}
	if f.Options == nil {
		f.Options = []string{}
	}
	return f, nil
}

// keyItem is an API key as stored, under the hex digest of the key.
type keyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Kind       string `dynamodbav:"ix_kind"`
	Created    string `dynamodbav:"ix_c"`
	ID         string `dynamodbav:"id"`
	Name       string `dynamodbav:"name"`
	Permission string `dynamodbav:"permission"`
	Hash       []byte `dynamodbav:"hash"`
	RateLimit  int    `dynamodbav:"rateLimit,omitempty"`
	CreatedAt  string `dynamodbav:"createdAt"`
	LastUsedAt string `dynamodbav:"lastUsedAt,omitempty"`
	RevokedAt  string `dynamodbav:"revokedAt,omitempty"`
}

func marshalKey(k *helpdesk.APIKey) (map[string]types.AttributeValue, error) {
	created := formatTime(k.CreatedAt)
	it := keyItem{
		PK: kindKey + "#" + fmt.Sprintf("%x", k.Hash), SK: kindKey, Kind: kindKey, Created: joinKey(created, k.ID),
		ID: k.ID, Name: k.Name, Permission: string(k.Permission), Hash: k.Hash[:], CreatedAt: created,
		RateLimit: k.RateLimit,
	}
	if !k.LastUsedAt.IsZero() {
		it.LastUsedAt = formatTime(k.LastUsedAt)
	}
	if k.Revoked() {
		it.RevokedAt = formatTime(k.RevokedAt)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("marshal api key %s: %w", k.ID, err)
	}
	return av, nil
}

func unmarshalKey(av map[string]types.AttributeValue) (*helpdesk.APIKey, error) {
	var it keyItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("unmarshal api key: %w", err)
	}
	if len(it.Hash) != 32 {
		return nil, fmt.Errorf("api key %s: stored digest has %d bytes", it.ID, len(it.Hash))
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("api key %s createdAt: %w", it.ID, err)
	}
	revoked, err := parseTime(it.RevokedAt)
	if err != nil {
		return nil, fmt.Errorf("api key %s revokedAt: %w", it.ID, err)
	}
	used, err := parseTime(it.LastUsedAt)
	if err != nil {
		return nil, fmt.Errorf("api key %s lastUsedAt: %w", it.ID, err)
	}
	k := &helpdesk.APIKey{
		ID: it.ID, Name: it.Name, Permission: helpdesk.Permission(it.Permission), RateLimit: it.RateLimit,
		CreatedAt: created, LastUsedAt: used, RevokedAt: revoked,
	}
	copy(k.Hash[:], it.Hash)
	return k, nil
}
