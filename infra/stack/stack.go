package stack

import (
	"fmt"
	"math"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// Defaults of the Props left at their zero value.
const (
	DefaultStage         = "dev"
	DefaultAssetsDir     = "bin"
	DefaultThrottleRate  = 50
	DefaultThrottleBurst = 100
	// DefaultLogRetention is how long function and access logs are kept.
	DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH
)

// Props configures the stack. The zero value is a valid "dev" stack.
type Props struct {
	// StackProps are passed to the underlying awscdk.Stack (environment,
	// description, termination protection). The stack is
	// environment-agnostic unless Env is set.
	StackProps awscdk.StackProps
	// Stage names the deployment (dev, prod, ...): it tags every resource
	// and names the HTTP API. Default DefaultStage.
	Stage string
	// Ephemeral makes the stack disposable: the table, secret, queue,
	// buckets and log groups are destroyed with it (a bucket only once
	// empty) and the table has no deletion protection. Otherwise they are retained and the table is protected.
	Ephemeral bool
	// AssetsDir holds <function>/bootstrap for every name of
	// FunctionNames (make build writes bin/). Relative paths are resolved
	// from the working directory. Default DefaultAssetsDir.
	AssetsDir string
	// ThrottleRate and ThrottleBurst are the $default stage's steady-state
	// requests per second and burst. Defaults DefaultThrottleRate and
	// DefaultThrottleBurst.
	ThrottleRate, ThrottleBurst float64
	// RateLimit is the requests per minute an API key may make unless it
	// has a limit of its own: HELPDESK_RATE_LIMIT of every function with
	// an authenticated route. Default config.DefaultRateLimit.
	RateLimit int
	// CorsOrigins are the origins browsers may call the API from
	// (config.CheckCORSOrigins says which are valid): the HTTP API's CORS
	// configuration, with httpapi.CORS for the rest, and
	// HELPDESK_CORS_ORIGINS of the functions behind it, and the files
	// bucket's CORS rule (PUT and GET with presigned URLs). None when
	// empty, and then neither sends CORS headers.
	CorsOrigins []string
	// LogLevel sets HELPDESK_LOG_LEVEL on every function (debug, info,
	// warn, error); unset when empty, which means info.
	LogLevel string
	// AlarmTopicArn is an existing SNS topic every alarm notifies, in
	// alarm and when back to OK; the alarms have no actions when empty.
	AlarmTopicArn string
	// LogRetention is how long the functions' and the access logs are
	// kept. Default DefaultLogRetention.
	LogRetention awslogs.RetentionDays
	// WithoutIndexes names indexes of dynamo.Table to leave out of the
	// table. CloudFormation adds at most one GSI per stack update, so a
	// stack deployed before a release that adds several takes them in as
	// many deploys, each leaving out one fewer (docs/operating.md). What
	// reads a left-out index fails until the last deploy.
	WithoutIndexes []string
	// KeepIndexes names indexes of dynamo.RetiredIndexes that the deployed
	// table still has, which the stack keeps defining as they were (same
	// keys, every attribute projected). CloudFormation deletes at most one
	// GSI per stack update, so a table made before the index plan v2
	// drops its retired indexes in as many deploys, each keeping one fewer
	// (docs/operating.md); a deploy leaving them all out would fail. Nothing
	// reads a kept index, so no grant names one; the Query on index/* of
	// the functions that pick their index per request covers them as it
	// covers every index of the table.
	KeepIndexes []string
}

// withDefaults returns p (or the zero Props) with its defaults filled in.
func (p *Props) withDefaults() Props {
	var out Props
	if p != nil {
		out = *p
	}
	if out.Stage == "" {
		out.Stage = DefaultStage
	}
	if out.AssetsDir == "" {
		out.AssetsDir = DefaultAssetsDir
	}
	if out.ThrottleRate == 0 {
		out.ThrottleRate = DefaultThrottleRate
	}
	if out.ThrottleBurst == 0 {
		out.ThrottleBurst = DefaultThrottleBurst
	}
	if out.RateLimit == 0 {
		out.RateLimit = config.DefaultRateLimit
	}
	if out.LogRetention == "" {
		out.LogRetention = DefaultLogRetention
	}
	return out
}

var stageName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,31}$`)

// Validate reports the first setting of p that cannot make a stack, with
// the defaults applied.
func (p *Props) Validate() error {
	c := p.withDefaults()
	switch {
	case !stageName.MatchString(c.Stage):
		return fmt.Errorf("stage %q: want a letter, then up to 31 letters, digits or dashes", c.Stage)
	case c.ThrottleRate < 0 || c.ThrottleBurst < 0:
		return fmt.Errorf("throttling must be positive (rate %g, burst %g)", c.ThrottleRate, c.ThrottleBurst)
	case c.RateLimit < 0 || c.RateLimit > helpdesk.MaxRateLimit:
		// The functions refuse more at start (config.ParseRateLimit).
		return fmt.Errorf("rate limit must be a positive number of requests per minute up to %d, not %d", helpdesk.MaxRateLimit, c.RateLimit)
	case c.ThrottleBurst != math.Trunc(c.ThrottleBurst):
		return fmt.Errorf("throttle burst must be a whole number of requests, not %g", c.ThrottleBurst)
	}
	if err := config.CheckCORSOrigins(c.CorsOrigins); err != nil {
		return err
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	for _, name := range c.WithoutIndexes {
		if !hasIndex(dynamo.Table.Indexes, name) {
			return fmt.Errorf("index %q to leave out: the table has no such index", name)
		}
	}
	for i, name := range c.KeepIndexes {
		switch {
		case !hasIndex(dynamo.RetiredIndexes, name):
			return fmt.Errorf("index %q to keep: no retired index has that name", name)
		case slices.Contains(c.KeepIndexes[:i], name):
			return fmt.Errorf("index %q to keep: named twice", name)
		}
	}
	return nil
}

// hasIndex reports whether ixs has an index called name.
func hasIndex(ixs []dynamo.Index, name string) bool {
	return slices.ContainsFunc(ixs, func(ix dynamo.Index) bool { return ix.Name == name })
}

// Output names of the stack.
const (
	// OutputAPIURL is the API's base URL, BasePath included
	// (https://<id>.execute-api.<region>.amazonaws.com/helpdesk/api/v1).
	OutputAPIURL = "ApiUrl"
	// OutputTableName is the DynamoDB table's name.
	OutputTableName = "TableName"
	// OutputFilesBucketName is the files bucket's name (attachments and
	// their uploads).
	OutputFilesBucketName = "FilesBucketName"
)

// New defines the Helpdesk stack under scope. It panics, as constructs
// do, on invalid props or a missing asset.
func New(scope constructs.Construct, id string, props *Props) awscdk.Stack {
	if err := props.Validate(); err != nil {
		panic("helpdesk stack: " + err.Error())
	}
	p := props.withDefaults()
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("Helpdesk Tickets API (" + p.Stage + "): HTTP API, Lambda, DynamoDB, webhooks")
	}
	s := awscdk.NewStack(scope, jsii.String(id), &sp)
	awscdk.Tags_Of(s).Add(jsii.String("project"), jsii.String("helpdesk"), nil)
	awscdk.Tags_Of(s).Add(jsii.String("stage"), jsii.String(p.Stage), nil)

	b := &builder{stack: s, props: p}
	b.table = b.newTable()
	b.cursorSecret = awssecretsmanager.NewSecret(s, jsii.String("CursorKeySecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Helpdesk " + p.Stage + ": key material of the list cursors (SHA-256 of this string)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: b.removalPolicy(),
	})
	b.failures = awssqs.NewQueue(s, jsii.String("StreamFailures"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   b.removalPolicy(),
	})
	b.newFilesBuckets()
	if p.AlarmTopicArn != "" {
		b.alarmTopic = awssns.Topic_FromTopicArn(s, jsii.String("AlarmTopic"), jsii.String(p.AlarmTopicArn))
	}

	for _, spec := range functionSpecs() {
		b.functions = append(b.functions, b.newFunction(spec))
	}
	b.wireStream()
	b.wireSchedule()
	b.newAPI()
	b.newAlarms()
	b.suppress()

	awscdk.NewCfnOutput(s, jsii.String(OutputAPIURL), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the API"),
		Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{b.stage.Url(), jsii.String(httpapi.BasePath[1:])}),
	})
	awscdk.NewCfnOutput(s, jsii.String(OutputTableName), &awscdk.CfnOutputProps{
		Description: jsii.String("The DynamoDB table"),
		Value:       b.table.TableName(),
	})
	awscdk.NewCfnOutput(s, jsii.String(OutputFilesBucketName), &awscdk.CfnOutputProps{
		Description: jsii.String("The S3 bucket of attachments and their uploads"),
		Value:       b.files.BucketName(),
	})
	return s
}

// builder carries the resources New makes while it wires them together.
type builder struct {
	stack        awscdk.Stack
	props        Props
	table        awsdynamodb.Table
	cursorSecret awssecretsmanager.Secret
	failures     awssqs.Queue
	files        awss3.Bucket
	fileLogs     awss3.Bucket
	alarmTopic   awssns.ITopic
	functions    []*function
	api          apiResources
	stage        awsapigatewayv2.HttpStage
}

func (b *builder) removalPolicy() awscdk.RemovalPolicy {
	if b.props.Ephemeral {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// newTable defines the table from dynamo.Table: its keys, its indexes
// but those Props.WithoutIndexes leaves out, then the retired ones
// Props.KeepIndexes names (string keys, all attributes projected), stream,
// and TTL attribute.
func (b *builder) newTable() awsdynamodb.Table {
	d := dynamo.Table
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(b.stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(d.PartitionKey),
		SortKey:      str(d.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Stream:       awsdynamodb.StreamViewType(d.StreamView),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(d.TTLAttribute),
		DeletionProtection:  jsii.Bool(!b.props.Ephemeral),
		RemovalPolicy:       b.removalPolicy(),
	})
	add := func(ix dynamo.Index) {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	for _, ix := range d.Indexes {
		if !slices.Contains(b.props.WithoutIndexes, ix.Name) {
			add(ix)
		}
	}
	// A kept index is defined exactly as v1 defined it: CloudFormation
	// cannot change an index's keys or projection in place.
	for _, ix := range dynamo.RetiredIndexes {
		if slices.Contains(b.props.KeepIndexes, ix.Name) {
			add(ix)
		}
	}
	return t
}

// newLogGroup is a log group with the stack's retention and removal
// policy.
func (b *builder) newLogGroup(id string) awslogs.LogGroup {
	return awslogs.NewLogGroup(b.stack, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     b.props.LogRetention,
		RemovalPolicy: b.removalPolicy(),
	})
}
