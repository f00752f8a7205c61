package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/s3local"
)

// TableName is the table the local stack uses.
const TableName = "helpdesk"

// FilesBucket is the bucket of uploads and attachments the local stack
// uses.
const FilesBucket = "helpdesk-files"

// ServerMaxHeaderBytes is the local server's own bound on the request line
// and headers, well above httpapi.MaxHeaderBytes (API Gateway's 10 KiB) so that the API, not the server,
// answers what exceeds that. Beyond it (plus the 4 KiB Go's server adds),
// the server answers 431 in plain text before any handler runs.
const ServerMaxHeaderBytes = 64 << 10

// generatedKeySuffix ends the names of the keys Run makes up when none are
// configured ("local write (generated)": the names the activity record
// shows, so they tell the keys apart); each run revokes those of the run
// before.
const generatedKeySuffix = "(generated)"

// Options configures Run.
type Options struct {
	// Addr is where the API listens, e.g. "127.0.0.1:8080".
	Addr string
	// DataDir keeps the database and the cursor key between runs.
	DataDir string
	// Keys are the API keys to register, by permission; a permission
	// without one gets a generated key, printed to Out once.
	Keys map[helpdesk.Permission]string
	// Out receives the banner: the URL, the keys, how to stop.
	Out io.Writer
	// Logger receives the JSON logs of the API and of the stack.
	Logger *slog.Logger
	// Ready, when set, is called with the API's base URL once it serves.
	Ready func(baseURL string)
	// WebhookAllowPrivate lets webhooks reach http and loopback or private
	// receivers, e.g. a developer's receiver on 127.0.0.1.
	WebhookAllowPrivate bool
	// RateLimit is the requests per minute of a key without its own
	// limit; zero means config.DefaultRateLimit.
	RateLimit int
	// CORSOrigins are the origins whose pages may call the API from a
	// browser (config.Config.CORSOrigins); none when empty.
	CORSOrigins []string
	// PollInterval is how often the stream is read and due deliveries are
	// attempted; zero means DefaultPollInterval.
	PollInterval time.Duration
}

// DefaultPollInterval is how often the local stack reads the stream and
// attempts due deliveries unless Options says otherwise. It is exported
// for what measures the stack: a change reaches webhooks and the feed up
// to one interval after it is written.
const DefaultPollInterval = 250 * time.Millisecond

// Run starts DynamoDB Local, the S3 server and the API and serves until
// ctx ends, then stops everything it started.
func Run(ctx context.Context, opts Options) error {
	if err := config.CheckCORSOrigins(opts.CORSOrigins); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "dynamodb"), 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	ddb, err := ddblocal.Start(ctx, ddblocal.Options{DBPath: filepath.Join(opts.DataDir, "dynamodb")})
	if err != nil {
		return err
	}
	defer func() {
		if err := ddb.Stop(); err != nil {
			opts.Logger.Warn("stopping DynamoDB Local", slog.String("error", err.Error()))
		}
	}()
	opts.Logger.Info("DynamoDB Local started", slog.String("endpoint", ddb.Endpoint()))
	files, err := startFiles(ctx, filepath.Join(opts.DataDir, "s3"), opts.Logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := files.server.Stop(); err != nil {
			opts.Logger.Warn("stopping the S3 server", slog.String("error", err.Error()))
		}
	}()
	db, err := ddblocal.NewClient(ctx, ddb.Endpoint())
	if err != nil {
		return err
	}
	if err := EnsureTable(ctx, db, TableName); err != nil {
		return err
	}
	key, err := cursorKey(filepath.Join(opts.DataDir, "cursor.key"))
	if err != nil {
		return err
	}
	rateLimit := opts.RateLimit
	if rateLimit == 0 {
		rateLimit = config.DefaultRateLimit
	}
	cfg := config.Config{Table: TableName, CursorKey: key, WebhookAllowPrivate: opts.WebhookAllowPrivate, RateLimit: rateLimit, CORSOrigins: opts.CORSOrigins}
	cfg.FilesBucket = FilesBucket
	sys, err := app.New(cfg, app.Clients{DynamoDB: db, Files: files.store}, opts.Logger)
	if err != nil {
		return err
	}
	keys, err := registerKeys(ctx, sys.Store, opts.Keys)
	if err != nil {
		return err
	}
	if err := writeEnv(filepath.Join(opts.DataDir, "env"), ddb.Endpoint()); err != nil {
		return err
	}
	h := serve.Handler(sys)
	streams, err := ddblocal.NewStreamsClient(ctx, ddb.Endpoint())
	if err != nil {
		return err
	}
	interval := opts.PollInterval
	if interval == 0 {
		interval = DefaultPollInterval
	}
	dispatcher := deliver.Dispatcher(sys)
	// Locally, subscriptions are read afresh for every batch, so a new
	// subscription receives the very next event.
	dispatcher.SetCacheTTL(0)
	poller := &Poller{DB: db, Streams: streams, Table: TableName, Handle: deliver.StreamConsumer(sys, dispatcher),
		Checkpoint: filepath.Join(opts.DataDir, "stream.checkpoint"), Interval: interval, Logger: opts.Logger}
	background, stopBackground := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		stopBackground()
		wg.Wait()
	}()
	wg.Go(func() {
		if err := poller.Run(background); err != nil {
			opts.Logger.Error("stream poller stopped", slog.String("error", err.Error()))
		}
	})
	wg.Go(func() { retryLoop(background, dispatcher.Drain, interval, opts.Logger) })
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	// Headers are bounded as API Gateway bounds them when deployed (10 KiB
	// of request line and headers), with the API's JSON 431 beyond.
	srv := &http.Server{Handler: httpapi.LimitHeaders(h), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: ServerMaxHeaderBytes}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	printBanner(opts.Out, base, keys, files.server.Endpoint())
	if opts.Ready != nil {
		opts.Ready(base)
	}
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ddb.Done():
		_ = srv.Close()
		return errors.New("DynamoDB Local exited unexpectedly")
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// retryLoop attempts due webhook deliveries every interval until ctx ends,
// as the scheduled retry function does in AWS.
func retryLoop(ctx context.Context, drain func(context.Context) (int, error), interval time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := drain(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("attempting due webhook deliveries failed", slog.String("error", err.Error()))
		}
	}
}

// EnsureTable creates the table from dynamo.Table unless it exists, waits
// until it is active, and turns on expiry by its TTL attribute.
func EnsureTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &missing):
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if _, err := db.CreateTable(ctx, dynamo.Table.CreateTableInput(name)); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(dynamo.Table.TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", name, err)
	}
	return nil
}

// cursorKey reads the cursor key kept in path, making one the first time.
func cursorKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return cursor.ParseKey(strings.TrimSpace(string(b)))
	}
	key := make([]byte, cursor.KeySize)
	_, _ = rand.Read(key)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write cursor key: %w", err)
	}
	return key, nil
}

// shownKey is a key for the banner; Key is empty for a configured key,
// which is never printed.
type shownKey struct {
	Permission helpdesk.Permission
	Key        string
}

// registerKeys stores the configured keys and generates the missing ones,
// revoking the keys generated by earlier runs.
func registerKeys(ctx context.Context, store *dynamo.Store, configured map[helpdesk.Permission]string) ([]shownKey, error) {
	existing, err := store.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, k := range existing {
		if strings.HasSuffix(k.Name, generatedKeySuffix) && !k.Revoked() {
			if err := store.RevokeAPIKey(ctx, k.ID, now); err != nil {
				return nil, err
			}
		}
	}
	var shown []shownKey
	for _, perm := range helpdesk.Permissions {
		plain, ok := configured[perm]
		k := &helpdesk.APIKey{Name: "local " + string(perm), Permission: perm, CreatedAt: now}
		if ok {
			hash, valid := auth.Digest(plain)
			if !valid {
				return nil, fmt.Errorf("the configured %s key is not an API key: it must be %q followed by 43 URL-safe base64 characters (make one with `go run ./infra/cmd/keys new`)", perm, auth.Prefix)
			}
			k.Hash, k.ID = hash, helpdesk.NewID("key_")
			shown = append(shown, shownKey{Permission: perm})
		} else {
			plain, k.Hash, k.ID = auth.NewKey()
			k.Name = "local " + string(perm) + " " + generatedKeySuffix
			shown = append(shown, shownKey{Permission: perm, Key: plain})
		}
		err := store.CreateAPIKey(ctx, k)
		if err != nil && helpdesk.ErrorCode(err) != helpdesk.CodeConflict {
			return nil, err
		}
	}
	return shown, nil
}

// writeEnv records how to reach the local database, for the keys command.
func writeEnv(path, endpoint string) error {
	env := fmt.Sprintf("AWS_ENDPOINT_URL=%s\nHELPDESK_TABLE=%s\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=local\nAWS_SECRET_ACCESS_KEY=local\n", endpoint, TableName)
	if err := os.WriteFile(path, []byte(env), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// localFiles is the local S3 server and the file store on its bucket.
type localFiles struct {
	server *s3local.Server
	store  *filestore.Store
}

// startFiles starts the S3-compatible server on dataDir, with the bucket
// FilesBucket, where uploads and attachments are kept between runs.
func startFiles(ctx context.Context, dataDir string, logger *slog.Logger) (*localFiles, error) {
	server, err := s3local.Start(ctx, s3local.Options{DataDir: dataDir, Bucket: FilesBucket})
	if err != nil {
		return nil, err
	}
	logger.Info("S3 server started", slog.String("endpoint", server.Endpoint()))
	id, secret := server.Credentials()
	client, err := s3local.NewClient(ctx, server.Endpoint(), id, secret)
	if err != nil {
		return nil, errors.Join(err, server.Stop())
	}
	return &localFiles{server: server, store: filestore.New(client, FilesBucket, logger)}, nil
}

func printBanner(w io.Writer, base string, keys []shownKey, files string) {
	fmt.Fprintf(w, "\nHelpdesk API: %s/helpdesk/api/v1\n", base)
	for _, k := range keys {
		if k.Key == "" {
			fmt.Fprintf(w, "  %-5s key: from HELPDESK_LOCAL_%s_KEY\n", k.Permission, strings.ToUpper(string(k.Permission)))
		} else {
			fmt.Fprintf(w, "  %-5s key: %s\n", k.Permission, k.Key)
		}
	}
	fmt.Fprintf(w, "Reference: %s/helpdesk/api/v1/docs (in a browser, no key)\n", base)
	fmt.Fprintf(w, "Files: uploads and attachments go to the S3 server at %s\n", files)
	fmt.Fprintf(w, "Try: curl -H 'Authorization: Bearer <read key>' %s/helpdesk/api/v1/tickets\nCtrl-C stops the API, DynamoDB Local and the S3 server.\n\n", base)
}
