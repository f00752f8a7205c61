package stack

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/helpdesk/internal/httpapi"
)

// Key prefixes of the files bucket (issue 16). A client PUTs a file under
// uploads/ with a URL the comments function presigns; attaching it copies
// it to attachments/<ticketId>/<attachmentId>, where reads are presigned
// and the dispatch function deletes it with its comment or ticket.
const (
	uploadsPrefix     = "uploads/"
	attachmentsPrefix = "attachments/"
)

// Lifetimes in the files and logs buckets, in days.
const (
	// UploadExpiryDays is how long an upload never attached, and an
	// incomplete multipart upload, stay in the files bucket. An upload is
	// attached within seconds of its PUT; a day leaves room for a slow
	// client without keeping orphans.
	UploadExpiryDays = 1
	// FileAccessLogDays is how long the files bucket's server access logs
	// are kept. S3 delivers them hours late, and the question they answer
	// (who read or deleted an attachment) may come weeks after the fact; a
	// quarter covers that without keeping requesters' addresses for long.
	FileAccessLogDays = 90
)

// fileAccessLogPrefix is where the files bucket's access logs go in the
// logs bucket.
const fileAccessLogPrefix = "files/"

// S3 actions the functions call on the files bucket.
const (
	putObject    = "s3:PutObject"
	getObject    = "s3:GetObject"
	deleteObject = "s3:DeleteObject"
)

// fileAccess is what a function does with the files bucket: object
// actions on uploads/* and on attachments/*. Each becomes a statement of
// its own, so that no action reaches a prefix it is not meant for. No
// function lists the bucket: the keys of what is deleted are always known.
type fileAccess struct {
	uploads, attachments []string
}

// none reports whether the function does not touch the files bucket.
func (acc fileAccess) none() bool {
	return len(acc.uploads) == 0 && len(acc.attachments) == 0
}

// endpointFiles is, per HTTP endpoint that uses the files bucket, what its
// code calls. Comments presigns the upload's PUT (PutObject on uploads/*);
// attaching is a HeadObject of the upload (GetObject), a CopyObject to
// attachments/ (GetObject on the source, PutObject on the copy), a
// DeleteObject of the upload once the comment is written (or of the copy
// when the comment's write fails); a read presigns GETs of attachments/*.
// Without s3:ListBucket, S3 answers a HeadObject of a missing upload 403,
// not 404 (filestore reads both as no bytes).
var endpointFiles = map[httpapi.Endpoint]fileAccess{
	httpapi.Comments: {
		uploads:     []string{putObject, getObject, deleteObject},
		attachments: []string{putObject, getObject, deleteObject},
	},
}

// dispatchFiles is what the dispatch function does with the files bucket:
// it deletes the attachments a comment drops, redacted or purged with its
// ticket, by the keys the stream's old image names.
var dispatchFiles = fileAccess{attachments: []string{deleteObject}}

// newFilesBuckets defines the private files bucket and the bucket of its
// server access logs. Both have the table's removal policy: they hold
// customer data and who touched it.
func (b *builder) newFilesBuckets() {
	day := awscdk.Duration_Days(jsii.Number(UploadExpiryDays))
	logs := awss3.NewBucket(b.stack, jsii.String("FileAccessLogsBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// S3 delivers access logs only to SSE-S3 buckets.
		Encryption:      awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("ExpireAccessLogs"),
			Expiration: awscdk.Duration_Days(jsii.Number(FileAccessLogDays)),
		}},
		RemovalPolicy: b.removalPolicy(),
	})
	props := &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		// No versioning: a redaction or purge must really delete.
		Versioned:       jsii.Bool(false),
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Id: jsii.String("ExpireUploads"), Prefix: jsii.String(uploadsPrefix), Expiration: day},
			{Id: jsii.String("AbortIncompleteMultipartUploads"), AbortIncompleteMultipartUploadAfter: day},
		},
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String(fileAccessLogPrefix),
		RemovalPolicy:          b.removalPolicy(),
	}
	if len(b.props.CorsOrigins) > 0 {
		// A browser app PUTs its upload and GETs an attachment straight
		// from S3 with the presigned URLs: the API's origins, and only the
		// header and methods those requests need.
		props.Cors = &[]*awss3.CorsRule{{
			AllowedOrigins: jsii.Strings(b.props.CorsOrigins...),
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT, awss3.HttpMethods_GET},
			AllowedHeaders: jsii.Strings("content-type"),
			ExposedHeaders: jsii.Strings("ETag"),
			MaxAge:         jsii.Number(3600),
		}}
	}
	b.files = awss3.NewBucket(b.stack, jsii.String("FilesBucket"), props)
	b.fileLogs = logs
}

// grantFiles adds the statements of acc to role, each on exact object
// ARNs of the files bucket.
func (b *builder) grantFiles(role awsiam.Role, acc fileAccess) {
	for _, g := range []struct {
		sid, prefix string
		actions     []string
	}{{"FileUploads", uploadsPrefix, acc.uploads}, {"FileAttachments", attachmentsPrefix, acc.attachments}} {
		actions := slices.Sorted(slices.Values(g.actions))
		if len(actions) == 0 {
			continue
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(g.sid),
			Actions:   jsii.Strings(actions...),
			Resources: &[]*string{b.files.ArnForObjects(jsii.String(g.prefix + "*"))},
		}))
	}
}
