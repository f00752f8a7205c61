// Package suite is the end-to-end suite of the Helpdesk API: black-box
// tests over plain HTTP against a base URL and three API keys (read, write,
// admin). It has no code outside its tests.
//
// With HELPDESK_API_URL set (the stack's ApiUrl output, BasePath included)
// and HELPDESK_E2E_READ_KEY, HELPDESK_E2E_WRITE_KEY and
// HELPDESK_E2E_ADMIN_KEY, it runs against that deployed stack (LocalStack
// or AWS). Otherwise, when HELPDESK_E2E_BIN names the folder of the
// functions' bootstraps (HELPDESK_E2E_RIE the emulator), as `make e2e`
// sets them, TestMain starts the e2e stack — every function's real binary
// under the Lambda Runtime Interface Emulator behind the HTTP API
// stand-in — and points the suite at it. With neither, as under a plain
// `go test ./...`, the tests skip and say how to run them.
//
// The webhook tests subscribe receivers listening on 127.0.0.1, which a
// deployed stack cannot reach, so they run only against the local stack;
// so do the checks that look inside it (cold starts under the emulator, a
// function's own 405, a deleted ticket's comments purged from the table,
// the comment cap reached by setting a ticket's count in the table).
package suite
