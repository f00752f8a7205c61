// Package view defines, once, the public JSON shape of every object the
// API shows and converts domain values to it.
//
// A ticket has the shape of events.Ticket, because webhook subscribers
// import that type: the HTTP answers (package httpapi) and the webhook
// payloads (package webhook) both come from Ticket here, so a response and
// an event can never disagree. Custom field definitions, subscriptions and
// delivery attempts are shown only by the API; their shapes live here too,
// so that every wire shape has one home that depends on nothing but the
// domain and events.
package view
