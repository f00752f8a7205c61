// Package httpapi serves the Helpdesk REST API over net/http: routing,
// API-key authentication and permissions, JSON request decoding and
// validation, the wire types, and the one mapping from domain error codes
// to HTTP statuses.
//
// The same Handler serves the local stack and, through the HTTP API
// (payload 2.0) Lambda adapter, each deployed function; a function is built
// with only its own endpoints.
package httpapi
