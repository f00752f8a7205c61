package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/childproc"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/s3local"
	"github.com/acme/helpdesk/internal/webhook"
)

// The functions that are not behind the HTTP API.
const (
	// Dispatch is fed the table's stream.
	Dispatch = "dispatch"
	// Retry runs on a schedule.
	Retry = "retry"
)

// Functions lists every function, by its folder under functions/: one per
// httpapi.Endpoints entry, then Dispatch and Retry.
var Functions = func() []string {
	var names []string
	for _, e := range httpapi.Endpoints {
		names = append(names, string(e))
	}
	return append(names, Dispatch, Retry)
}()

// TableName is the table the stack creates in DynamoDB Local.
const TableName = "helpdesk-e2e"

// Timeouts the emulators give the functions (AWS_LAMBDA_FUNCTION_TIMEOUT).
const (
	apiFunctionTimeout    = 30 * time.Second
	streamFunctionTimeout = 60 * time.Second
)

// Options configures Start. The zero value looks for the bootstraps and the
// emulator where `make e2e` puts them under the module root.
type Options struct {
	// BinDir holds <function>/bootstrap for every entry of Functions.
	// Empty means .local/e2e-bin under the module root.
	BinDir string
	// RIE is the aws-lambda-rie executable. Empty means
	// .local/bin/aws-lambda-rie under the module root, else one on PATH.
	RIE string
	// LogLevel is the functions' HELPDESK_LOG_LEVEL; empty means info.
	LogLevel string
	// RateLimit is the functions' HELPDESK_RATE_LIMIT; zero leaves it
	// unset, which means the deployed default.
	RateLimit int
	// PollInterval is how often the stream is read; zero means 100 ms.
	PollInterval time.Duration
	// RetryInterval is how often the retry function is invoked; zero
	// means 250 ms.
	RetryInterval time.Duration
}

// Keys are the API keys the stack registers, one per permission.
type Keys struct {
	Read, Write, Admin string
}

// Stack is a running stack; Stop ends it. Its methods are safe for
// concurrent use.
type Stack struct {
	ddb       *ddblocal.Server
	s3        *s3local.Server
	db        *dynamodb.Client
	emulators map[string]*emulator
	server    *http.Server
	baseURL   string
	keys      Keys
	actors    map[string]events.Actor // by key
	log       *processLog             // the harness's own log lines
	logger    *slog.Logger

	stopBackground context.CancelFunc
	background     sync.WaitGroup

	mu              sync.Mutex
	lastTicketBatch time.Time // when dispatch last returned from a batch with records of tickets or comments

	stopOnce sync.Once
	stopErr  error
}

// Start runs the stack: DynamoDB Local with the table and its stream, the
// S3 server with the files bucket, the API keys, one emulator per function, the Front on a free loopback port,
// the stream poller feeding dispatch and the retry schedule. It returns
// once all of them are up; the functions themselves start (cold) on their
// first invocation, as in Lambda.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	binDir, rie, err := locate(opts)
	if err != nil {
		return nil, err
	}
	bootstraps := map[string]string{}
	for _, fn := range Functions {
		bootstraps[fn] = filepath.Join(binDir, fn, "bootstrap")
		if err := checkBootstrap(bootstraps[fn]); err != nil {
			return nil, fmt.Errorf("e2e: function %s: %w", fn, err)
		}
	}

	s := &Stack{emulators: map[string]*emulator{}, log: &processLog{}}
	s.logger = slog.New(slog.NewTextHandler(s.log, nil))
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if s.ddb, err = ddblocal.Start(ctx, ddblocal.Options{}); err != nil {
		return nil, err
	}
	if s.db, err = ddblocal.NewClient(ctx, s.ddb.Endpoint()); err != nil {
		return nil, err
	}
	if s.s3, err = s3local.Start(ctx, s3local.Options{Bucket: FilesBucket}); err != nil {
		return nil, err
	}
	s3Key, s3Secret := s.s3.Credentials()
	if err := local.EnsureTable(ctx, s.db, TableName); err != nil {
		return nil, err
	}
	table, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(TableName)})
	if err != nil {
		return nil, fmt.Errorf("e2e: describe table: %w", err)
	}
	streamARN := aws.ToString(table.Table.LatestStreamArn)
	if s.keys, s.actors, err = registerKeys(ctx, dynamo.New(s.db, TableName, nil)); err != nil {
		return nil, err
	}
	cursorKey := make([]byte, cursor.KeySize)
	_, _ = rand.Read(cursorKey)

	// The emulators start together; each takes a few milliseconds.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, fn := range Functions {
		env := withS3(fn, functionEnv(fn, s.ddb.Endpoint(), base64.StdEncoding.EncodeToString(cursorKey), opts.LogLevel), s.s3.Endpoint(), s3Key, s3Secret)
		if opts.RateLimit > 0 {
			env = append(env, "HELPDESK_RATE_LIMIT="+strconv.Itoa(opts.RateLimit))
		}
		wg.Go(func() {
			e, err := startEmulator(ctx, rie, bootstraps[fn], fn, env)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			s.emulators[fn] = e
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("e2e: listen: %w", err)
	}
	s.server = &http.Server{Handler: &Front{Invoker: s, Logger: s.logger}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(ln) }()
	s.baseURL = "http://" + ln.Addr().String() + httpapi.BasePath

	streams, err := ddblocal.NewStreamsClient(ctx, s.ddb.Endpoint())
	if err != nil {
		return nil, err
	}
	poll := orDefault(opts.PollInterval, 100*time.Millisecond)
	poller := &local.Poller{
		DB: s.db, Streams: streams, Table: TableName, Interval: poll, Logger: s.logger,
		Handle: func(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
			return s.dispatch(ctx, streamARN, batch)
		},
	}
	background, stop := context.WithCancel(context.Background())
	s.stopBackground = stop
	s.background.Go(func() {
		if err := poller.Run(background); err != nil {
			s.logger.Error("stream poller stopped", slog.String("error", err.Error()))
		}
	})
	s.background.Go(func() { s.schedule(background, orDefault(opts.RetryInterval, 250*time.Millisecond)) })
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// locate resolves the bootstrap folder and the emulator.
func locate(opts Options) (binDir, rie string, err error) {
	binDir, rie = opts.BinDir, opts.RIE
	if binDir == "" || rie == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", "", err
		}
		if binDir == "" {
			binDir = filepath.Join(root, ".local", "e2e-bin")
		}
		if rie == "" {
			rie = filepath.Join(root, ".local", "bin", "aws-lambda-rie")
			if _, err := os.Stat(rie); err != nil {
				if onPath, err := exec.LookPath("aws-lambda-rie"); err == nil {
					rie = onPath
				}
			}
		}
	}
	if _, err := os.Stat(rie); err != nil {
		return "", "", fmt.Errorf("e2e: the Lambda Runtime Interface Emulator: %w (make e2e installs it)", err)
	}
	return binDir, rie, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := childproc.ModuleRoot(dir)
	if err != nil {
		return "", fmt.Errorf("e2e: %w", err)
	}
	return root, nil
}

// functionEnv is the whole environment of a function's emulator, which
// passes it on to the function: what the deployed function is given,
// with the endpoint of DynamoDB Local, dummy credentials, and the cursor
// key itself (deployed, the functions that need it read it from Secrets
// Manager).
func functionEnv(fn, endpoint, cursorKey, logLevel string) []string {
	timeout := apiFunctionTimeout
	if fn == Dispatch || fn == Retry {
		timeout = streamFunctionTimeout
	}
	if logLevel == "" {
		logLevel = "info"
	}
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=:UTC",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=e2e",
		"AWS_SECRET_ACCESS_KEY=e2e",
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_LAMBDA_FUNCTION_NAME=helpdesk-e2e-" + fn,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(timeout/time.Second)),
		"HELPDESK_LOG_LEVEL=" + logLevel,
	}
	// As deployed, the function of the OpenAPI document has no table.
	if fn != string(httpapi.Docs) {
		env = append(env, "HELPDESK_TABLE="+TableName)
	}
	// As deployed, only the functions that page with cursors get the key;
	// without it they fail to start.
	if httpapi.Endpoint(fn).Pages() {
		env = append(env, "HELPDESK_CURSOR_KEY="+cursorKey)
	}
	// As deployed, the functions that serve or discard files name the
	// bucket; Start adds the S3 server's endpoint.
	if usesFiles(fn) {
		env = append(env, "HELPDESK_FILES_BUCKET="+FilesBucket)
	}
	// The receivers of the suite listen on 127.0.0.1: the webhooks
	// function checks subscription URLs, dispatch and retry deliver.
	if fn == string(httpapi.Webhooks) || fn == Dispatch || fn == Retry {
		env = append(env, "HELPDESK_WEBHOOK_ALLOW_PRIVATE=1")
	}
	return env
}

// FilesBucket is the bucket of uploads and attachments on the stack's S3
// server.
const FilesBucket = "helpdesk-e2e-files"

// usesFiles reports whether function fn serves or discards files: it
// needs the bucket and the S3 server.
func usesFiles(fn string) bool { return fn == string(httpapi.Comments) || fn == Dispatch }

// withS3 is env with the S3 server's endpoint for a function that uses
// files, and, for every function, the credentials the server takes in
// place of the dummy ones: DynamoDB Local takes any, as Lambda gives every
// function its role's.
func withS3(fn string, env []string, endpoint, accessKey, secret string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "AWS_ACCESS_KEY_ID":
			kv = k + "=" + accessKey
		case "AWS_SECRET_ACCESS_KEY":
			kv = k + "=" + secret
		}
		out = append(out, kv)
	}
	if usesFiles(fn) {
		out = append(out, "AWS_ENDPOINT_URL_S3="+endpoint)
	}
	return out
}

// registerKeys stores a fresh key for each permission, and returns the
// keys and, by key, the actor of the changes made with it.
func registerKeys(ctx context.Context, store *dynamo.Store) (Keys, map[string]events.Actor, error) {
	var keys Keys
	actors := map[string]events.Actor{}
	for _, perm := range helpdesk.Permissions {
		plain, hash, id := auth.NewKey()
		k := &helpdesk.APIKey{ID: id, Name: "e2e " + string(perm), Permission: perm, Hash: hash, CreatedAt: time.Now()}
		if err := store.CreateAPIKey(ctx, k); err != nil {
			return Keys{}, nil, fmt.Errorf("e2e: register the %s key: %w", perm, err)
		}
		actors[plain] = events.Actor{Type: events.ActorAPIKey, ID: id, Name: k.Name}
		switch perm {
		case helpdesk.PermRead:
			keys.Read = plain
		case helpdesk.PermWrite:
			keys.Write = plain
		case helpdesk.PermAdmin:
			keys.Admin = plain
		}
	}
	return keys, actors, nil
}

// dispatch invokes the dispatch function with a batch of stream records
// as the deployed event source mapping does: only the records streamFilter
// keeps, and not at all when none is left. It returns the function's
// partial batch response.
func (s *Stack) dispatch(ctx context.Context, streamARN string, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	tickets := streamFilter(streamARN, batch)
	if len(tickets) == 0 {
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, streamFunctionTimeout+5*time.Second)
	defer cancel()
	var resp lambdaevents.DynamoDBEventResponse
	err := invokeJSON(ctx, s, Dispatch, lambdaevents.DynamoDBEvent{Records: tickets}, &resp)
	s.mu.Lock()
	s.lastTicketBatch = time.Now()
	s.mu.Unlock()
	return resp, err
}

// streamFilter returns the records of a batch that the deployed event
// source mapping's filter (pk beginning with "TICKET#") passes to the
// dispatch function: those of the items in a ticket's partition, the
// ticket itself and its comments, as dynamo.IsTicketKey matches them. The
// others (API keys, subscriptions, deliveries…) are dropped as processed.
// Each record kept carries the stream's ARN, as Lambda sets it.
func streamFilter(streamARN string, batch lambdaevents.DynamoDBEvent) []lambdaevents.DynamoDBEventRecord {
	var kept []lambdaevents.DynamoDBEventRecord
	for _, rec := range batch.Records {
		if dynamo.IsTicketKey(rec.Change.Keys) {
			rec.EventSourceArn = streamARN
			kept = append(kept, rec)
		}
	}
	return kept
}

// schedule invokes the retry function every interval until ctx ends, each
// time with the event an EventBridge schedule sends (the function ignores
// it), one invocation after the other.
func (s *Stack) schedule(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UTC()
		ev := lambdaevents.EventBridgeEvent{
			Version: "0", ID: newUUID(), DetailType: "Scheduled Event", Source: "aws.events",
			AccountID: AccountID, Time: now.Truncate(time.Second), Region: "us-east-1",
			Resources: []string{"arn:aws:events:us-east-1:" + AccountID + ":rule/helpdesk-e2e-retry"},
			Detail:    []byte("{}"),
		}
		callCtx, cancel := context.WithTimeout(ctx, streamFunctionTimeout+5*time.Second)
		err := invokeJSON(callCtx, s, Retry, ev, nil)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("scheduled retry invocation failed", slog.String("error", err.Error()))
		}
	}
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Invoke invokes a function by name (an entry of Functions) through its
// emulator and returns its result. It implements Invoker.
func (s *Stack) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	e, ok := s.emulators[function]
	if !ok {
		return nil, fmt.Errorf("e2e: no function %q", function)
	}
	return e.invoke(ctx, payload)
}

// URL returns the API's base URL, http://127.0.0.1:PORT/helpdesk/api/v1,
// served by the Front.
func (s *Stack) URL() string { return s.baseURL }

// Keys returns the registered API keys.
func (s *Stack) Keys() Keys { return s.keys }

// Actor returns who the changes made with key, one of Keys, are recorded
// as: the key's id and name, which only the stack that registered it
// knows.
func (s *Stack) Actor(key string) (events.Actor, bool) {
	a, ok := s.actors[key]
	return a, ok
}

// DynamoDB returns a client of the stack's DynamoDB Local, for tests that
// look into the table (TableName) behind the API's back: what a stream
// consumer left there, or a state too costly to reach through the API.
func (s *Stack) DynamoDB() *dynamodb.Client { return s.db }

// Invocations returns how many times function has been invoked.
func (s *Stack) Invocations(function string) int {
	if e, ok := s.emulators[function]; ok {
		return int(e.invocations.Load())
	}
	return 0
}

// InitReports returns how many INIT REPORT lines function's emulator has
// logged: one per cold start of the function under the emulator.
func (s *Stack) InitReports(function string) int {
	if e, ok := s.emulators[function]; ok {
		return e.log.InitReports()
	}
	return 0
}

// Log returns the last n bytes of function's output: the emulator's lines
// (INIT START, INIT REPORT, INVOKE …) and the function's own JSON logs and
// START/END/REPORT lines.
func (s *Stack) Log(function string, n int) string {
	if e, ok := s.emulators[function]; ok {
		return e.log.Tail(n)
	}
	return ""
}

// Logs returns the last n bytes of the harness's log and of every
// function's output, each under a heading, for a failing test to print.
func (s *Stack) Logs(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== e2e harness\n%s\n", s.log.Tail(n))
	for _, fn := range Functions {
		fmt.Fprintf(&b, "=== function %s (%d invocations, %d INIT REPORT lines)\n%s\n", fn, s.Invocations(fn), s.InitReports(fn), s.Log(fn, n))
	}
	return b.String()
}

// AwaitSubscriptions waits, if need be, until the dispatch function reads
// the webhook subscriptions afresh for its next batch. Like the deployed
// function it keeps them in memory for webhook.CacheTTL after reading
// them, which it does for a batch with changes of tickets or of their
// comments; a subscription created after such a batch could miss events
// until then. Call it after creating subscriptions and before changing
// tickets or comments: it returns at once when dispatch has not yet seen
// such a change, and otherwise waits until the cache it may hold has
// expired.
func (s *Stack) AwaitSubscriptions(ctx context.Context) error {
	s.mu.Lock()
	last := s.lastTicketBatch
	s.mu.Unlock()
	if last.IsZero() {
		return nil
	}
	wait := time.Until(last.Add(webhook.CacheTTL + 500*time.Millisecond))
	if wait <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(wait):
		return nil
	}
}

// Stop ends everything Start started: the schedule and the poller, the
// Front, the emulators and their functions, DynamoDB Local and the S3
// server. Later
// calls return the first call's result.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		if s.stopBackground != nil {
			s.stopBackground()
			s.background.Wait()
		}
		var errs []error
		if s.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.server.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("e2e: stop the front: %w", err))
			}
			cancel()
		}
		var wg sync.WaitGroup
		for _, e := range s.emulators {
			wg.Go(e.stop)
		}
		wg.Wait()
		if s.ddb != nil {
			if err := s.ddb.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.s3 != nil {
			if err := s.s3.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}
