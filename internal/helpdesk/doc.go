// Package helpdesk is the domain of the Helpdesk Tickets API: the ticket and
// custom-field models, their validation, the API-key permission model, the
// one error type every layer speaks, and the store interfaces that the
// DynamoDB package implements and the HTTP package consumes.
//
// It imports no AWS code. Storage, HTTP and webhooks depend on it, never the
// reverse.
package helpdesk
