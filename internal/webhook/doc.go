// Package webhook delivers ticket changes to subscriptions as signed
// webhooks.
//
// The ticket table's DynamoDB Stream is the only source of events: the
// API never writes an event itself, so there is no dual write to lose. The
// work is split by job, a file each:
//
//   - produce.go: a stream record → its events (ids are a hash of the
//     record, so a redelivered batch yields the same ids);
//   - stream.go: a stream batch → the events and one Delivery per matching
//     subscription, durably recorded before any attempt; a record is
//     reported failed (by SequenceNumber) only when its work could not be
//     recorded, never because an endpoint failed;
//   - subscriptions.go: which subscriptions exist, cached briefly;
//   - attempt.go: one signed attempt and what it found;
//   - retry.go: the retry schedule, and ProcessDue, run every minute by a
//     scheduled function (every 250 ms locally), which attempts whatever
//     has come due;
//   - health.go: endpoint health, disabling a subscription after 410 or
//     five days of failures;
//   - dispatcher.go: the Dispatcher that ties them together and its worker
//     pool.
//
// Deliveries follow Standard Webhooks: webhook-id, webhook-timestamp and
// webhook-signature headers, signed with the subscription's secret (and,
// for 24 hours after a rotation, its previous one too) by events.Sign.
//
// The subscriptions themselves are managed by package subscription, the
// API's side of webhooks.
package webhook
