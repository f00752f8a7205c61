// Package stack defines the Helpdesk AWS CDK stack: the DynamoDB table of
// dynamo.Table with its stream, one Lambda function per httpapi.Endpoint
// behind an API Gateway HTTP API (a route per entry of httpapi.Routes and
// method it answers, and the $default route to the docs function), the
// dispatch function on the table's stream, the retry function on a
// one-minute schedule, the cursor key secret, the private files bucket of
// attachments and their uploads with the bucket of its access logs,
// alarms, and the cdk-nag AwsSolutions suppressions, each with its reason.
//
// Every function has a role of its own holding only the DynamoDB actions
// its code calls (see tableAccess), scoped to the table, its indexes or its
// stream; nothing grants a DynamoDB action on "*". Only the comments and
// dispatch functions may call S3, each on the files bucket's key prefixes
// it uses (see fileAccess).
//
// The functions' code is taken from <AssetsDir>/<function>/bootstrap, as
// make build writes it (linux/arm64, provided.al2023). The app in
// infra/cdk reads the Props from CDK context.
package stack
