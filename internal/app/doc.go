// Package app is the one place the system is put together.
//
// New assembles the whole system (store, services, authenticator) from
// one config.Config and the clients it runs on; serve.Handler and
// System.Dispatcher give the parts a process serves. Load does the same
// from a Lambda function's environment, and serve.API, serve.PagingAPI,
// ConsumeStream and RunDue are the kinds of process the functions run, so
// that each functions/<name>/main.go is one call. The local stack, the
// end-to-end harness, the benchmarks and the packages' tests build the
// system through New as well, so there is one wiring to keep right.
//
// The openapi function is the exception that proves the rule: it has no
// system to assemble, and starts through package lambdarun so that it
// links no AWS client.
package app
