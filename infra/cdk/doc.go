// Command cdk is the AWS CDK app of the Helpdesk stack (cdk.json at the
// repository root runs it as "go run ./infra/cdk"; make synth, deploy and
// destroy drive it through the pinned CDK CLI). It reads the CDK context,
// defines the stack Helpdesk-<stage> with stack.New, applies the cdk-nag
// AwsSolutions checks, and synthesizes.
//
// Context (cdk -c key=value, or cdk.json):
//
//	stage          deployment name, default "dev" (stack Helpdesk-<stage>)
//	ephemeral      true: the table, secret, queue, buckets (once empty) and logs go with the stack, no deletion protection
//	assetsDir      directory of <function>/bootstrap, default "bin" (make build)
//	throttleRate   $default stage requests per second, default 50
//	throttleBurst  $default stage burst, default 100
//	rateLimit      a key's requests per minute unless it has its own (HELPDESK_RATE_LIMIT), default 1200
//	corsOrigins    comma-separated origins browsers may call the API (and PUT and GET files) from, or *; none by default (docs/cors.md)
//	logLevel       HELPDESK_LOG_LEVEL of every function (debug, info, warn, error)
//	alarmTopicArn  an SNS topic the alarms notify
//	withoutIndexes comma-separated indexes to leave out, for an upgrade that adds several (docs/operating.md)
//	keepIndexes    comma-separated retired indexes the table still has, for an upgrade that drops several (docs/operating.md)
//
// Run from the repository root: relative asset paths are resolved from the
// working directory.
package main
