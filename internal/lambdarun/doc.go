// Package lambdarun hands a process's handler to the Lambda runtime.
//
// It links no AWS SDK client and no part of the system, so that the
// openapi function, which makes no AWS call and has nothing to assemble,
// starts through Serve without the DynamoDB client whose package
// initialisation would cost its cold start. Every other function starts
// through package app (or app/serve), which uses Fail and HTTP from here.
package lambdarun
