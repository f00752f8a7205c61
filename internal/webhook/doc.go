// Package webhook turns ticket changes into signed webhook deliveries.
//
// The ticket table's DynamoDB Stream is the only source of events: the
// API never writes an event itself, so there is no dual write to lose. For
// each stream batch the Dispatcher derives the events (ids are a hash of
// the stream record, so a redelivered batch yields the same ids), durably
// records them and one Delivery per matching subscription, and only then
// attempts the deliveries, concurrently and each within a timeout. A failed
// attempt reschedules its Delivery on the retry schedule; ProcessDue, run
// every minute by a scheduled function (every second locally), attempts
// whatever is due. A stream record is reported failed only when its events
// could not be recorded.
//
// Deliveries follow Standard Webhooks: webhook-id, webhook-timestamp and
// webhook-signature headers, signed with the subscription's secret (and,
// for 24 hours after a rotation, its previous one too) by events.Sign.
//
// Service serves the subscription API.
package webhook
