// Package subscription is the API's side of webhooks: it creates, lists,
// changes, deletes and rotates the secrets of subscriptions, vets their
// URLs against the SSRF guard, shows a subscription's delivery log and
// schedules replays.
//
// It stores subscriptions and schedules deliveries through
// helpdesk.WebhookStore and never delivers anything itself: package
// webhook turns the table's stream into deliveries and makes the
// attempts. Keeping the two apart keeps the HTTP functions free of the
// delivery machinery (and of the stream decoding, which needs the store's
// item layout).
package subscription
