// Package local runs the whole Helpdesk system on one machine with no AWS
// account: DynamoDB Local (persisting in a data folder), the table created
// from the same design the CDK stack deploys, API keys, and every API route
// served by the same handlers the Lambda functions run.
package local
