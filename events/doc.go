// Package events decodes and verifies the webhooks that the Helpdesk Tickets
// API sends when a ticket, or its conversation, changes.
//
// Deliveries follow the Standard Webhooks specification, version 1. Each is
// an HTTP POST whose body is one JSON [Event] and whose headers carry the
// event's id ([HeaderID]), the Unix time of sending ([HeaderTimestamp]) and
// one or more signatures ([HeaderSignature]). A signature is "v1," followed
// by the standard base64 encoding of HMAC-SHA256 over
//
//	webhook-id + "." + webhook-timestamp + "." + body
//
// keyed with the endpoint's secret, a "whsec_" string made by [NewSecret].
// While a secret is being rotated the header holds one signature per secret,
// separated by a single space, and a delivery is genuine if any of them
// matches.
//
// A receiver reads the raw body, hands it with the request headers to
// [Parse] (or to [Verify] and then its own decoder), and answers 2xx quickly:
//
//   - Verify the exact bytes received; re-encoding the JSON first breaks the
//     signature.
//   - Use [Event.ID] as the idempotency key: a retried delivery carries the
//     same id, so an event may arrive more than once.
//   - Ignore event types it does not handle (see [Known]); new types may be
//     added.
//   - Ignore JSON fields it does not know; [Parse] does too, so new fields
//     may be added to the payload.
//
// The package depends on the standard library only. The API's dispatcher
// signs with [Sign] and builds its payloads from the same types, so this
// package is the single definition of the wire format.
package events
