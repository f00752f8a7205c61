package dynamotest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/internal/ddblocal"
)

// Fault is a failure Faults injects into a DynamoDB request.
type Fault int

// The faults. Errors are answered the way DynamoDB answers them, so that
// the SDK classifies and retries them as it would in AWS.
const (
	// Throttling answers 400 ThrottlingException.
	Throttling Fault = iota
	// ProvisionedThroughput answers 400
	// ProvisionedThroughputExceededException.
	ProvisionedThroughput
	// ServerError answers 500 InternalServerError.
	ServerError
	// Timeout never answers: the attempt runs into the client's timeout
	// without reaching DynamoDB Local.
	Timeout
	// LostReply lets the request reach DynamoDB Local and do its work, then
	// loses the answer: the attempt runs into the client's timeout. The
	// worst case for a write, which has happened though the caller cannot
	// know it.
	LostReply
)

func (f Fault) String() string {
	return [...]string{"Throttling", "ProvisionedThroughput", "ServerError", "Timeout", "LostReply"}[f]
}

// Rule injects a fault into the requests of one operation.
type Rule struct {
	// Op is the DynamoDB operation, e.g. "PutItem"; empty matches every
	// operation.
	Op    string
	Fault Fault
	// Times is how many matching requests the rule hits; zero hits all.
	Times int
	// Rate is the chance that a matching request is hit; zero means 1.
	Rate float64
	// Before, when set, runs before a hit request is sent on (with Fault
	// ignored): a way to provoke real conditional-check failures, by
	// writing the item first.
	Before func()

	hits int
}

// Faults is the HTTP client of a DynamoDB client that injects faults into
// the requests its rules match, and passes everything else to DynamoDB
// Local. It is safe for concurrent use.
type Faults struct {
	next *http.Client

	mu     sync.Mutex
	rules  []*Rule
	seen   map[string]int
	hit    map[string]int
	frozen bool
}

// FaultyClient returns a DynamoDB client for the package's DynamoDB Local
// whose requests go through a new Faults, and that Faults. Each attempt is
// bounded by attemptTimeout, as in the deployed functions. The client
// retries as the SDK does by default (which errors, how many attempts) but
// waits at most 20 ms between attempts, so that sustained faults cost the
// tests little time.
func FaultyClient(tb testing.TB, attemptTimeout time.Duration) (*dynamodb.Client, *Faults) {
	tb.Helper()
	f := &Faults{next: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}, seen: map[string]int{}, hit: map[string]int{}}
	db, err := ddblocal.NewClient(context.Background(), Endpoint(tb), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: f, Timeout: attemptTimeout}
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 20*time.Millisecond)
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.next.CloseIdleConnections)
	return db, f
}

// Add adds rules; the first that matches a request decides its fate.
func (f *Faults) Add(rules ...Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rules {
		f.rules = append(f.rules, &r)
	}
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// Freeze makes every later request hang until its attempt times out, as
// if the process had died: nothing it sends reaches DynamoDB Local any
// more.
func (f *Faults) Freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

// Seen returns how many requests of op (every operation for "") arrived.
func (f *Faults) Seen(op string) int { return f.count(f.seen, op) }

// Hit returns how many requests of op (every operation for "") were hit
// by a fault.
func (f *Faults) Hit(op string) int { return f.count(f.hit, op) }

func (f *Faults) count(m map[string]int, op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op != "" {
		return m[op]
	}
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// rule returns the rule that hits a request of op, if any.
func (f *Faults) rule(op string) (r *Rule, frozen bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[op]++
	if f.frozen {
		return nil, true
	}
	for _, r := range f.rules {
		if (r.Op != "" && r.Op != op) || (r.Times > 0 && r.hits >= r.Times) || (r.Rate > 0 && rand.Float64() >= r.Rate) {
			continue
		}
		r.hits++
		f.hit[op]++
		return r, false
	}
	return nil, false
}

// RoundTrip implements http.RoundTripper.
func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	r, frozen := f.rule(op)
	switch {
	case frozen:
		return hang(req)
	case r == nil:
		return f.next.Transport.RoundTrip(req)
	case r.Before != nil:
		r.Before()
		return f.next.Transport.RoundTrip(req)
	}
	switch r.Fault {
	case Throttling:
		return errorResponse(req, http.StatusBadRequest, "ThrottlingException", "Rate of requests exceeds the allowed throughput."), nil
	case ProvisionedThroughput:
		return errorResponse(req, http.StatusBadRequest, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded."), nil
	case ServerError:
		return errorResponse(req, http.StatusInternalServerError, "InternalServerError", "Internal server error"), nil
	case LostReply:
		res, err := f.next.Transport.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
		return hang(req)
	default:
		return hang(req)
	}
}

// hang waits for the request's attempt to be given up.
func hang(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// errorResponse is a DynamoDB error answer (JSON 1.0 protocol).
func errorResponse(req *http.Request, status int, code, message string) *http.Response {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"fault-injected"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
