// Package config is the one configuration type of the system and the one
// place it is read from the environment, with its defaults and checks.
//
// It imports no AWS code, so that a function which makes no AWS call (the
// openapi function) can read its log level without linking an SDK client.
package config
