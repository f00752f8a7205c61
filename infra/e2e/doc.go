// Package e2e runs the Helpdesk functions as they are deployed — the real
// `bootstrap` binaries, each under the AWS Lambda Runtime Interface
// Emulator (aws-lambda-rie), against DynamoDB Local, behind a stand-in for
// API Gateway's HTTP API. `make e2e` builds them exactly as `make build`
// builds the deployed artefact (CGO_ENABLED=0 -tags lambda.norpc -trimpath
// -ldflags "-s -w") with one difference, GOARCH: the host's, since the
// deployed arm64 binaries cannot execute on an amd64 machine.
//
// Front is that stand-in: an http.Handler that routes a request the way the
// deployed HTTP API does (one route per entry of httpapi.Routes, method and
// path, HEAD beside GET; anything else goes to the $default route's
// function, the docs function), turns it into a payload 2.0 event
// (events.APIGatewayV2HTTPRequest), invokes the route's function and
// writes back the function's
// events.APIGatewayV2HTTPResponse.
//
// Start assembles the whole stack on loopback: DynamoDB Local with the
// table of the shared design and its stream, one API key per permission,
// one emulator process per function on ports of its own, the Front, the
// stream poller (local.Poller) that invokes the dispatch function with the
// records of tickets' partitions (the tickets and their comments, as
// dynamo.IsTicketKey matches them) as the deployed event source mapping
// does, and a schedule that invokes the retry function every 250 ms (every
// minute when deployed).
//
// Where it differs from Lambda: each function has one execution
// environment, so concurrent requests to one function wait for each other
// instead of starting more; the functions that page (list, webhooks and
// comments) get the cursor key in HELPDESK_CURSOR_KEY instead of from
// Secrets Manager; the emulator enforces no memory limit; the poller has
// none of the mapping's bisection, retry limits or failure queue.
//
// The end-to-end suite in the suite subfolder drives either this stack
// (`make e2e`) or a deployed one (HELPDESK_API_URL) over plain HTTP.
package e2e
