// Package dynamo implements the helpdesk stores on one DynamoDB table.
//
// The table's design (keys, indexes, stream) is the value Table, which both
// the local stack and the CDK stack create the table from, so the two cannot
// drift. Every item has a partition key "pk" and sort key "sk"; attributes
// named "ix_*" are index keys and are written only on the items meant to be
// in that index. Ticket list pages are served by Query on one index per
// filter and sort (see plan), never by Scan, and carry opaque cursors sealed
// by package cursor.
package dynamo
