// Package app assembles the API from its configuration: it reads the
// environment, builds the AWS clients once, and wires store, service,
// authenticator and HTTP handler, so that each function's main and the
// local stack only call it.
package app
