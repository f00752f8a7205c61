// Package openapitest holds HTTP exchanges with the API to its OpenAPI
// document (httpapi.OpenAPI), so that the document cannot drift from the
// code: the HTTP test suites send every request through Transport.
//
// For each exchange Transport finds the document's operation and checks,
// with kin-openapi's openapi3filter and JSON Schema 2020-12:
//
//   - the request: when the document calls it invalid, the API must have
//     refused it with a 4xx (the suites send bad input on purpose; a 2xx
//     for such a request is a failure), and when it lacks the Bearer key
//     an operation needs, the answer must be 401;
//   - the response, whatever the request: its status is one the operation
//     documents, its headers and body match that response, and an error
//     body carries the code that response names (x-error-code).
//
// A request that matches no operation must be answered 404 NOT_FOUND, or
// 405 METHOD_NOT_ALLOWED with the path's methods in Allow (HEAD beside
// GET, which the document leaves implied), as the document's x-unrouted
// answers describe (Unrouted), or with API Gateway's own 404
// (GatewayError), which a stack without a $default route answers. The
// Bearer key itself is not checked against the document (only the API
// knows keys), nor is the request's Content-Type: the API reads every
// body as JSON, so a body sent without one is checked as JSON.
//
// CheckDelivery and CheckEvent do the same for webhook deliveries and
// event payloads against the document's webhooks.
package openapitest
