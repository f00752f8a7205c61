// Package cursor seals pagination state into opaque, tamper-evident tokens.
//
// A token is AES-256-GCM over the state, with the query the token was
// issued for (its filters, sort and order) as additional data: nothing in it
// is readable without the key, and a token altered, forged under another
// key, or presented with another query fails to open.
package cursor
