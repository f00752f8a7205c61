package dynamo

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Index is a global secondary index with string keys and every attribute
// projected.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// Design describes the table: its string key attributes, its indexes, its
// stream and its TTL attribute.
type Design struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	// StreamView is the stream's view type; the webhook dispatcher needs
	// old and new images.
	StreamView types.StreamViewType
	// TTLAttribute holds the Unix time after which DynamoDB may delete an
	// expiring item.
	TTLAttribute string
}

// Attribute names of the index keys. An item is in an index only when it
// has both of the index's key attributes.
const (
	attrPK             = "pk"
	attrSK             = "sk"
	attrKind           = "ix_kind"   // entity kind: every ticket, field definition and key
	attrCreated        = "ix_c"      // createdAt#id
	attrUpdated        = "ix_u"      // updatedAt#createdAt#id (tickets only)
	attrStatus         = "ix_status" // ticket status
	attrStatusPriority = "ix_sp"     // status#priority
	attrAssigneeStatus = "ix_asgs"   // assignee#status, only while assigned
	attrDueQueue       = "ix_dueq"   // "DUE" on pending webhook deliveries
	attrDue            = "ix_due"    // due time#webhook id#event id
	// The activity record's index keys are in activity.go.
)

// Attribute names of the keys of RetiredIndexes, which only the index plan
// v1 wrote; Migrate removes them.
const (
	attrPriority     = "ix_priority" // ticket priority
	attrAssignee     = "ix_asg"      // assignee id, only while assigned
	attrAssigneePrio = "ix_asgp"     // assignee#priority, only while assigned
)

// dueIndex finds the webhook deliveries that are due, earliest first.
var dueIndex = Index{"due", attrDueQueue, attrDue}

// Table is the single table design shared by the stores, the local stack
// and the CDK stack.
var Table = Design{
	PartitionKey: attrPK,
	SortKey:      attrSK,
	Indexes:      indexes(),
	StreamView:   types.StreamViewTypeNewAndOldImages,
	TTLAttribute: "expiresAt",
}

func indexes() []Index {
	return append(indexesOf(ticketIndexes), dueIndex, feedIndex, historyIndex)
}

// CreateTableInput returns the request that creates the table under name,
// billed on demand, with its stream enabled.
func (d Design) CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := map[string]bool{d.PartitionKey: true, d.SortKey: true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(d.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(d.SortKey), KeyType: types.KeyTypeRange},
		},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: d.StreamView},
	}
	for _, ix := range d.Indexes {
		attrs[ix.PartitionKey], attrs[ix.SortKey] = true, true
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	for _, a := range slices.Sorted(maps.Keys(attrs)) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS,
		})
	}
	return in
}
