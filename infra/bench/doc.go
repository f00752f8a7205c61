// Package bench is the harness of `make bench`: the benchmarks that
// measure what a user of the Helpdesk API pays for, and the report made of
// their output. Every target is a ratio to a baseline measured in the same
// run, because the machines it runs on are shared and noisy; no test ever
// asserts a time.
//
// The six sections and their benchmarks (each reports its numbers with
// testing.B.ReportMetric, so the raw output is benchstat's input):
//
//  1. Cold start — BenchmarkColdStart (here): every function's bootstrap
//     under a fresh aws-lambda-rie per start, through infra/e2e.ColdStart,
//     started in turn, order rotating, with two baselines built with the
//     same flags in the same run: the hello-world function in ./hello and
//     ./sdkonly, hello and a DynamoDB client. The INIT REPORT durations ÷
//     each baseline's, and the binary sizes ÷ hello's (target ≤ 2). A
//     function that makes no DynamoDB call (noDynamoDB, in sections.go:
//     openapi) must start within 1.15 × hello world; every other, within
//     1.10 × sdkonly, the floor under anything that calls DynamoDB through
//     the AWS SDK; each row is judged by its one ratio. Two reference
//     points, beside hello only, show what the AWS SDK alone costs a cold
//     start: sdkonly, and ./sdkconfig, the same from
//     config.LoadDefaultConfig, which the functions no longer use. The
//     bootstraps are built for the host's GOARCH: the deployed arm64 ones
//     cannot execute on this amd64 machine.
//  2. Request overhead — BenchmarkRequest (here): a payload 2.0 event
//     through the adapter, router, cached key check, store and DynamoDB
//     Local, ÷ the bare SDK calls the request made (recorded from it,
//     replayed with the same client, interleaved). BenchmarkRateLimit
//     (here): GET ticket with the per-key rate limiter ÷ without it, the
//     key at its limit: the write units it adds a request (target ≤ 0.1)
//     and the ratio of the medians (target ≤ 1.05).
//  3. DynamoDB cost — BenchmarkListCost, BenchmarkItemCost,
//     BenchmarkCommentCost and BenchmarkEventCost (internal/dynamo, on the
//     measurements of its amplification tests): read amplification and
//     read units per list page for every filter × sort × order, write
//     units per create, update and delete; and the activity record's: what
//     the stream consumer spends recording each kind of write's events
//     (and what one webhook subscription adds), the read units and round
//     trips of a page of the feed and of a ticket's history, and the
//     events a second at which a feed shard throttles. With the round
//     trips and durations of section 2 they price a million requests, with
//     no subscription and with one (Cost, pricing.Default, DefaultMix).
//  4. Load — BenchmarkLoad (here): wrk at 32 connections against the local
//     stack (infra/local) and the RIE-hosted bootstraps (infra/e2e), each ÷
//     the same mix of bare SDK calls on its own DynamoDB Local.
//  5. Webhook fan-out — BenchmarkFanOut (internal/webhook): a batch's time
//     ÷ the sequential bound and ÷ the ideal for the worker pool.
//  6. Feed lag — BenchmarkFeedLag (here): how long a create through the
//     local stack's HTTP API takes to appear in the change feed, read on
//     the real clock: p50 and p99, beside the settle window the feed waits
//     out. No target; the issue asks for the numbers.
//
// Parse reads the benchmarks' output, Build summarises each metric over
// the runs (median, min–max), judges the targets and estimates the cost,
// and Report prints and serialises the result; infra/cmd/benchreport is
// the command make bench runs. A missed target is reported as MISS, not
// failed on; a section without numbers, or an error under load, fails.
package bench
