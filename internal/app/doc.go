// Package app is the one place the system is put together.
//
// New assembles the whole system (store, services, authenticator) from
// one config.Config and the clients it runs on; Load does the same from a
// Lambda function's environment. Two subpackages give the parts a process
// serves, so that each function links only those: app/serve the HTTP API
// (serve.Handler, and the route functions' entries serve.API and
// serve.PagingAPI), app/deliver the webhooks (deliver.Dispatcher,
// deliver.StreamConsumer, and the entries deliver.ConsumeStream and
// deliver.RunDue). Each functions/<name>/main.go is one call. The local stack, the
// end-to-end harness, the benchmarks and the packages' tests build the
// system through New as well, so there is one wiring to keep right.
//
// The openapi function is the exception that proves the rule: it has no
// system to assemble, and starts through package lambdarun so that it
// links no AWS client.
package app
