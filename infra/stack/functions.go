package stack

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/httpapi"
)

// The non-HTTP functions.
const (
	// DispatchFunction consumes the table's stream and delivers webhooks.
	DispatchFunction = "dispatch"
	// RetryFunction runs every minute and attempts the due deliveries.
	RetryFunction = "retry"
)

// FunctionTag is the tag whose value names each function's directory
// under functions/ (and under Props.AssetsDir).
const FunctionTag = "helpdesk:function"

// FunctionNames lists every function of the stack: one per
// httpapi.Endpoints entry, then DispatchFunction and RetryFunction.
func FunctionNames() []string {
	var names []string
	for _, e := range httpapi.Endpoints {
		names = append(names, string(e))
	}
	return append(names, DispatchFunction, RetryFunction)
}

// DynamoDB actions the functions call.
const (
	getItem        = "dynamodb:GetItem"
	batchGetItem   = "dynamodb:BatchGetItem"
	putItem        = "dynamodb:PutItem"
	updateItem     = "dynamodb:UpdateItem"
	deleteItem     = "dynamodb:DeleteItem"
	batchWriteItem = "dynamodb:BatchWriteItem"
	conditionCheck = "dynamodb:ConditionCheckItem"
	query          = "dynamodb:Query"
)

// tableAccess is what a function does with the table. IAM has no action of
// its own for TransactWriteItems: each Put, Update, Delete or
// ConditionCheck in a transaction needs the action of its kind.
type tableAccess struct {
	// items are the item actions, on the table.
	items []string
	// queryTable and queryIndexes: Query on the table itself, on all of
	// its indexes (for a function that picks its index per request).
	queryTable, queryIndexes bool
	// indexes: Query on these indexes only (names of dynamo.Table's).
	indexes []string
	// recordsKeyUse: UpdateItem of API key items' lastUsedAt only (the
	// authenticator's use record, dynamo.Store.TouchAPIKey), granted on
	// conditions that confine it to those items and that attribute.
	recordsKeyUse bool
}

// Attributes and leading keys the use record of an API key may touch: the
// key item's primary key and lastUsedAt (internal/dynamo: apikeys.go,
// item.go).
var (
	keyUseAttributes  = []string{"pk", "sk", "lastUsedAt"}
	keyUseLeadingKeys = []string{"KEY#*"}
)

// none reports whether the function does not touch the table at all.
func (acc tableAccess) none() bool {
	return len(acc.items) == 0 && !acc.queryTable && !acc.queryIndexes && len(acc.indexes) == 0 && !acc.recordsKeyUse
}

// endpointAccess is, per HTTP endpoint, what its code calls beyond the
// GetItem of the API key lookup and the UpdateItem of the key's use record
// (recordsKeyUse) that every endpoint with an authenticated route makes
// (internal/dynamo: store.go, customfields.go, webhooks.go, list.go).
var endpointAccess = map[httpapi.Endpoint]tableAccess{
	// ListTickets: one Query per page segment, on a ticket index.
	httpapi.ListTickets: {queryIndexes: true},
	// Ticket: GetItem.
	httpapi.GetTicket: {},
	// CustomFieldsByID (BatchGetItem) checks the values; CreateTicket puts.
	// With an Idempotency-Key: the claim is a put, the ticket and the
	// key's completion (an update) are one transaction, a failed create
	// deletes its claim, and a retried transaction reads the key (GetItem).
	httpapi.CreateTicket: {items: []string{batchGetItem, putItem, updateItem, deleteItem}},
	// UpdateTicket reads (GetItem), checks values (BatchGetItem), puts.
	// A bulk update (update_many) makes the same calls per ticket; with an
	// Idempotency-Key, the claim is a put, its completion an update after
	// the writes (a retried one reads the key, GetItem), and a request
	// refused whole, or whose answer cannot be kept, deletes its claim.
	httpapi.UpdateTicket: {items: []string{batchGetItem, putItem, updateItem, deleteItem}},
	// DeleteTicket (internal/dynamo/trash.go): a GetItem of the ticket,
	// then one transaction of its conditional Delete and the Put of its
	// tombstone, the trash's entry.
	httpapi.DeleteTicket: {items: []string{deleteItem, putItem}},
	// Definitions and name reservations are put and deleted in
	// transactions; the list is a Query of the kind index. Idempotent
	// creates as for CreateTicket.
	httpapi.CustomFields: {items: []string{putItem, updateItem, deleteItem}, queryIndexes: true},
	// Subscriptions are put and deleted, listed from the kind index;
	// replays put a delivery; the attempt log is a Query of the
	// subscription's partition in the table. Idempotent creates as for
	// CreateTicket.
	httpapi.Webhooks: {items: []string{putItem, updateItem, deleteItem}, queryTable: true, queryIndexes: true},
	// Comments (internal/dynamo/comments.go): a comment and its ticket
	// are put in one transaction after a GetItem of the ticket; a comment
	// is read with its ticket by BatchGetItem; a page is a Query of the
	// ticket's partition beside a GetItem of the ticket; a redaction is a
	// transaction of a ConditionCheck (the ticket) and an UpdateItem.
	// Idempotent creates as for CreateTicket.
	httpapi.Comments: {items: []string{batchGetItem, putItem, updateItem, deleteItem, conditionCheck}, queryTable: true},
	// Events (internal/dynamo/activity.go) only reads: the feed is a Query
	// per shard of the feed index, a ticket's events a Query of the
	// history index, beside a BatchGetItem of the ticket and its tombstone
	// for a history.
	httpapi.Events: {items: []string{batchGetItem}, indexes: []string{"feed", "history"}},
	// The OpenAPI document is embedded and its route public: no table
	// at all, not even the key lookup.
	httpapi.Docs: {},
	// Trash (internal/dynamo/trash.go): the list is a Query of the kind
	// index; a restore reads the tombstone (GetItem), then deletes it and
	// puts the ticket in one transaction; a purge marks the tombstone
	// (UpdateItem), then deletes it.
	httpapi.Trash: {items: []string{deleteItem, putItem, updateItem}, indexes: []string{"kind-created"}},
	// API keys (internal/dynamo/apikeys.go): a key by id is a GetItem of
	// its id's pointer then of the key; a create puts both in one
	// transaction; a revocation is an UpdateItem; the list, the last
	// admin check and the lookup of a key without a pointer are Queries
	// of the kind index.
	httpapi.APIKeys: {items: []string{putItem, updateItem}, indexes: []string{"kind-created"}},
}

// authenticated reports whether any route of the endpoint takes an API key,
// which is looked up in the table.
func authenticated(e httpapi.Endpoint) bool {
	return slices.ContainsFunc(httpapi.Routes, func(rt httpapi.Route) bool { return rt.Endpoint == e && !rt.Public() })
}

// function is one Lambda function of the stack.
type function struct {
	spec functionSpec
	fn   awslambda.Function
	role awsiam.Role
}

// functionSpec describes a function before it is built.
type functionSpec struct {
	name        string
	description string
	memoryMB    float64
	timeout     awscdk.Duration
	access      tableAccess
	// endpoint is set for the functions behind the HTTP API.
	endpoint httpapi.Endpoint
	// files is what the function does with the files bucket.
	files fileAccess
	// cursorSecret: the function reads the cursor key secret.
	cursorSecret bool
	// async: invoked asynchronously (the schedule), without retries: the
	// next run comes a minute later anyway.
	async bool
}

// functionSpecs lists the functions in FunctionNames order. It panics if an
// endpoint has no access declared, so a new endpoint cannot deploy with
// permissions nobody thought about.
func functionSpecs() []functionSpec {
	var specs []functionSpec
	for _, e := range httpapi.Endpoints {
		acc, ok := endpointAccess[e]
		if !ok {
			panic("helpdesk stack: no table access declared for endpoint " + string(e))
		}
		if authenticated(e) {
			acc.items = append([]string{getItem}, acc.items...) // API key lookup
			acc.recordsKeyUse = true
		}
		var paths []string
		for _, rt := range httpapi.Routes {
			if rt.Endpoint == e {
				paths = append(paths, rt.Method+" "+rt.Path)
			}
		}
		specs = append(specs, functionSpec{
			name:         string(e),
			description:  "Helpdesk API: " + strings.Join(paths, ", "),
			memoryMB:     128,
			timeout:      awscdk.Duration_Seconds(jsii.Number(10)),
			access:       acc,
			endpoint:     e,
			files:        endpointFiles[e],
			cursorSecret: e.Pages(),
		})
	}
	return append(specs,
		functionSpec{
			name:        DispatchFunction,
			description: "Helpdesk webhooks: turns ticket stream records into events and deliveries, and attempts them",
			memoryMB:    256,
			timeout:     awscdk.Duration_Minutes(jsii.Number(5)),
			// RecordEvents: BatchGetItem (recorded events, pending
			// deliveries) and BatchWriteItem; ListWebhooks: Query of the
			// kind index; hand-off to the retry worker: PutItem;
			// subscription health: GetItem and PutItem; attempt log:
			// BatchWriteItem; a comment event's ticket and a deleted
			// ticket's tombstone: GetItem; a redacted comment's recorded
			// creation: GetItem and UpdateItem; a deleted ticket's comments:
			// a Query of its partition and BatchWriteItem deletes; an
			// expired tombstone's history: a Query of the history index and
			// BatchWriteItem deletes.
			access: tableAccess{items: []string{getItem, batchGetItem, putItem, updateItem, batchWriteItem}, queryTable: true, queryIndexes: true},
			files:  dispatchFiles,
		},
		functionSpec{
			name:        RetryFunction,
			description: "Helpdesk webhooks: attempts the deliveries that have come due (every minute)",
			memoryMB:    128,
			timeout:     awscdk.Duration_Seconds(jsii.Number(60)),
			// DueDeliveries: Query of the due index; ClaimDelivery:
			// UpdateItem; Event: GetItem; FinishAttempts: BatchWriteItem;
			// hand-off near the deadline: PutItem; subscription health:
			// GetItem and PutItem; ListWebhooks: Query of the kind index.
			access: tableAccess{items: []string{getItem, putItem, updateItem, batchWriteItem}, queryIndexes: true},
			async:  true,
		},
	)
}

// newFunction builds a function with a role of its own, its log group and
// its table and files bucket permissions.
func (b *builder) newFunction(spec functionSpec) *function {
	id := strings.ToUpper(spec.name[:1]) + spec.name[1:]
	logs := b.newLogGroup(id + "Logs")
	role := awsiam.NewRole(b.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Helpdesk " + spec.name + " function"),
	})
	logs.GrantWrite(role)

	env := map[string]*string{}
	if !spec.access.none() {
		env["HELPDESK_TABLE"] = b.table.TableName()
	}
	if !spec.files.none() {
		env["HELPDESK_FILES_BUCKET"] = b.files.BucketName()
	}
	if spec.cursorSecret {
		env["HELPDESK_CURSOR_KEY_SECRET_ARN"] = b.cursorSecret.SecretArn()
	}
	if b.props.LogLevel != "" {
		env["HELPDESK_LOG_LEVEL"] = jsii.String(b.props.LogLevel)
	}
	if spec.endpoint != "" && len(b.props.CorsOrigins) > 0 {
		// API Gateway answers preflights and sets the CORS headers itself,
		// but routes an OPTIONS that a route takes (the $default route
		// takes every method) to its function: that function answers the
		// preflight 204, as make run does.
		env["HELPDESK_CORS_ORIGINS"] = jsii.String(strings.Join(b.props.CorsOrigins, ","))
	}
	limited := spec.endpoint != "" && authenticated(spec.endpoint)
	if limited {
		env["HELPDESK_RATE_LIMIT"] = jsii.String(strconv.Itoa(b.props.RateLimit))
	}
	props := &awslambda.FunctionProps{
		Description:   jsii.String(spec.description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(b.props.AssetsDir, spec.name)), nil),
		MemorySize:    jsii.Number(spec.memoryMB),
		Timeout:       spec.timeout,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
		Tracing:       awslambda.Tracing_ACTIVE,
		Role:          role,
		Environment:   &env,
	}
	if spec.async {
		props.RetryAttempts = jsii.Number(0)
		props.MaxEventAge = awscdk.Duration_Minutes(jsii.Number(1))
	}
	fn := awslambda.NewFunction(b.stack, jsii.String(id+"Function"), props)
	awscdk.Tags_Of(fn).Add(jsii.String(FunctionTag), jsii.String(spec.name), nil)

	b.grantTable(role, spec.access)
	b.grantFiles(role, spec.files)
	if limited {
		b.grantRateCounters(role)
	}
	if spec.cursorSecret {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadCursorKeySecret"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &[]*string{b.cursorSecret.SecretArn()},
		}))
	}
	return &function{spec: spec, fn: fn, role: role}
}

// RateLimitSid is the Sid of the statement that lets a function with
// authenticated routes count its keys' requests: UpdateItem on the rate
// limit counters (partition keys dynamo.RateKeyPrefix…) and nothing else,
// apart from the function's other grants.
const RateLimitSid = "RateLimitCounters"

// grantRateCounters adds the rate limit counters' statement to role.
func (b *builder) grantRateCounters(role awsiam.Role) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(RateLimitSid),
		Actions:   jsii.Strings(updateItem),
		Resources: &[]*string{b.table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{dynamo.RateKeyPrefix + "*"}},
		},
	}))
}

// indexArns is the ARN pattern of every index of the table.
func (b *builder) indexArns() *string {
	return b.indexArn("*")
}

// indexArn is the ARN of the table's index name (or a pattern of names).
func (b *builder) indexArn(name string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{b.table.TableArn(), jsii.String("/index/" + name)})
}

// grantTable adds the statements of acc to role: item actions on the
// table, Query on the table, on all its indexes or on named ones. It
// panics on an index dynamo.Table does not have, so that no grant names
// an index the table lacks, nor a retired one the stack only keeps.
func (b *builder) grantTable(role awsiam.Role, acc tableAccess) {
	items := slices.Clone(acc.items)
	slices.Sort(items)
	if items = slices.Compact(items); len(items) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("TableItems"),
			Actions:   jsii.Strings(items...),
			Resources: &[]*string{b.table.TableArn()},
		}))
	}
	if acc.recordsKeyUse {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("KeyUseRecord"),
			Actions:   jsii.Strings(updateItem),
			Resources: &[]*string{b.table.TableArn()},
			Conditions: &map[string]any{
				"ForAllValues:StringLike":   map[string]any{"dynamodb:LeadingKeys": keyUseLeadingKeys},
				"ForAllValues:StringEquals": map[string]any{"dynamodb:Attributes": keyUseAttributes},
				"StringEqualsIfExists":      map[string]any{"dynamodb:ReturnValues": "NONE"},
			},
		}))
	}
	var queried []*string
	if acc.queryTable {
		queried = append(queried, b.table.TableArn())
	}
	if acc.queryIndexes {
		queried = append(queried, b.indexArns())
	}
	for _, name := range acc.indexes {
		if !hasIndex(dynamo.Table.Indexes, name) {
			panic("helpdesk stack: the table has no index " + name)
		}
		queried = append(queried, b.indexArn(name))
	}
	if len(queried) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("TableQuery"),
			Actions:   jsii.Strings(query),
			Resources: &queried,
		}))
	}
}

// byName returns the function named name.
func (b *builder) byName(name string) *function {
	for _, f := range b.functions {
		if f.spec.name == name {
			return f
		}
	}
	panic("helpdesk stack: no function " + name)
}

// wireStream feeds the table's stream to the dispatch function: ticket
// items only, partial batch responses, bisection and bounded retries, and
// the failure queue for what still fails. The stream permissions are
// granted here, on the stream alone: the DynamoEventSource construct would
// grant ListStreams on "*". ListStreams supports no resource-level
// permission, so on the stream ARN it grants nothing; it is listed because
// Lambda's documentation names it, but the mapping polls with
// DescribeStream, GetShardIterator and GetRecords, which are scoped.
func (b *builder) wireStream() {
	f := b.byName(DispatchFunction)
	stream := b.table.TableStreamArn()
	f.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTableStream"),
		Actions:   jsii.Strings("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"),
		Resources: &[]*string{stream},
	}))
	esm := f.fn.AddEventSourceMapping(jsii.String("TableStream"), &awslambda.EventSourceMappingOptions{
		EventSourceArn:          stream,
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(10),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(24)),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(b.failures),
		Filters: &[]*map[string]any{awslambda.FilterCriteria_Filter(&map[string]any{
			"dynamodb": map[string]any{
				"Keys": map[string]any{
					dynamo.Table.PartitionKey: map[string]any{"S": awslambda.FilterRule_BeginsWith(jsii.String(dynamo.TicketKeyPrefix))},
				},
			},
		})},
	})
	// The mapping validates the role's stream permissions when it is
	// created, so it waits for the policy.
	esm.Node().AddDependency(f.role)
}

// wireSchedule runs the retry function every minute.
func (b *builder) wireSchedule() {
	f := b.byName(RetryFunction)
	awsevents.NewRule(b.stack, jsii.String("RetrySchedule"), &awsevents.RuleProps{
		Description: jsii.String("Helpdesk: attempt due webhook deliveries every minute"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(0),
			MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(1)),
		})},
	})
}
