package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppress records, resource by resource, why the stack departs from the
// cdk-nag AwsSolutions rules it departs from. Each suppression is as
// narrow as the rule allows (IAM5 names the exact resource pattern).
func (b *builder) suppress() {
	tableID := *b.stack.GetLogicalId(b.table.Node().DefaultChild().(awscdk.CfnElement))
	filesID := *b.stack.GetLogicalId(b.files.Node().DefaultChild().(awscdk.CfnElement))
	for _, f := range b.functions {
		applies := []any{"Resource::*"}
		reason := "Resource::* is only X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing), which support no resource-level permissions."
		if f.spec.access.queryIndexes {
			applies = append(applies, "Resource::<"+tableID+".Arn>/index/*")
			reason += " <Table.Arn>/index/* grants only dynamodb:Query, on the indexes of this function's own table; the function picks its index per request (the list planner, the kind and due indexes)."
		}
		if len(f.spec.files.uploads) > 0 {
			applies = append(applies, "Resource::<"+filesID+".Arn>/"+uploadsPrefix+"*")
			reason += " <FilesBucket.Arn>/" + uploadsPrefix + "* grants only the object actions named, on uploads, whose keys the function makes per request."
		}
		if len(f.spec.files.attachments) > 0 {
			applies = append(applies, "Resource::<"+filesID+".Arn>/"+attachmentsPrefix+"*")
			reason += " <FilesBucket.Arn>/" + attachmentsPrefix + "* grants only the object actions named, on attachments, whose keys (ticket and attachment ids) the function meets per request or stream record."
		}
		cdknag.NagSuppressions_AddResourceSuppressions(f.role, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(reason),
			AppliesTo: &applies,
		}}, jsii.Bool(true))
	}
	for _, r := range b.api.routes {
		reason := "The API authenticates every request itself: a Bearer API key, looked up by SHA-256 digest in the table, " +
			"with read, write or admin permission per route (internal/auth, httpapi.Routes); 401/403 come from the function. " +
			"An API Gateway authorizer would add a second lookup and latency for no added check."
		if r.spec.Public() {
			reason = "Public by design: the route serves the API's OpenAPI document, a constant embedded in its function, to clients " +
				"before they hold a key. The function reads nothing else and has no table or secret permission."
		}
		cdknag.NagSuppressions_AddResourceSuppressions(r.route, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-APIG4"),
			Reason: jsii.String(reason),
		}}, jsii.Bool(true))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(b.api.fallback, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-APIG4"),
		Reason: jsii.String("Public by design: the $default route takes what no other route matches to the docs function, which answers " +
			"only the API's JSON 404 or 405 (computed from its route table) besides the embedded OpenAPI document; it reads nothing " +
			"else and has no table or secret permission."),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(b.failures, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter destination: the stream mapping's on-failure destination, holding the " +
			"descriptions of record batches the dispatch function gave up on, for an operator to inspect; nothing consumes it."),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(b.fileLogs, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This bucket is itself the destination of the files bucket's server access logs; logging its own " +
			"access would log each delivery of a log, without end."),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(b.cursorSecret, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The secret is key material for sealing list cursors, not a credential: the functions that page with cursors (list, webhooks, comments, events) read it when a page first needs it. " +
			"Automatic rotation would invalidate every outstanding cursor (400 on the next page) while old and new function instances " +
			"disagree; it is rotated by hand (new secret value, then a function redeploy) when needed."),
	}}, jsii.Bool(true))
}
