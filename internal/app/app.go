package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/subscription"
	"github.com/acme/helpdesk/internal/webhook"
)

// Config is the API's configuration, read from the environment by Load.
type Config struct {
	// Table is the DynamoDB table (HELPDESK_TABLE, required unless only
	// the Docs endpoint is served).
	Table string
	// CursorKey seals list cursors (HELPDESK_CURSOR_KEY: 32 bytes in
	// base64); one of it and CursorSecretARN is required where the list
	// endpoint is served.
	CursorKey []byte
	// CursorSecretARN names a Secrets Manager secret whose string, hashed
	// with SHA-256, is the cursor key (HELPDESK_CURSOR_KEY_SECRET_ARN), as
	// deployed stacks keep it. PagingHandler's loader reads it once, when
	// a page first needs the key. The list and webhooks functions need one of the two.
	CursorSecretARN string
	// LogLevel is the least level logged (HELPDESK_LOG_LEVEL: debug, info,
	// warn, error; default info).
	LogLevel slog.Level
	// WebhookAllowPrivate relaxes the webhook SSRF guard for local
	// development (HELPDESK_WEBHOOK_ALLOW_PRIVATE=1): http URLs and
	// loopback or private addresses. Deployed stacks never set it.
	WebhookAllowPrivate bool
}

// Load reads the configuration for a process serving endpoints (all of
// them when none are named) and checks it.
func Load(endpoints ...httpapi.Endpoint) (Config, error) {
	// The ticket list and the webhook delivery log page with cursors.
	pages := len(endpoints) == 0 || slices.Contains(endpoints, httpapi.ListTickets) || slices.Contains(endpoints, httpapi.Webhooks)
	return load(needsTable(endpoints), pages)
}

// LoadDispatch reads the configuration of the webhook dispatch and retry
// functions, which need no cursor key.
func LoadDispatch() (Config, error) { return load(true, false) }

// needsTable reports whether serving endpoints (all when none) touches the
// table: every endpoint does but Docs, which serves a constant document.
func needsTable(endpoints []httpapi.Endpoint) bool {
	return len(endpoints) == 0 || slices.ContainsFunc(endpoints, func(e httpapi.Endpoint) bool { return e != httpapi.Docs })
}

func load(needsTable, needsCursorKey bool) (Config, error) {
	var cfg Config
	var errs []error
	if cfg.Table = os.Getenv("HELPDESK_TABLE"); cfg.Table == "" && needsTable {
		errs = append(errs, errors.New("HELPDESK_TABLE must name the DynamoDB table"))
	}
	if needsCursorKey {
		key, arn := os.Getenv("HELPDESK_CURSOR_KEY"), os.Getenv("HELPDESK_CURSOR_KEY_SECRET_ARN")
		switch {
		case key != "" && arn != "":
			errs = append(errs, errors.New("set HELPDESK_CURSOR_KEY or HELPDESK_CURSOR_KEY_SECRET_ARN, not both"))
		case arn != "":
			cfg.CursorSecretARN = arn
		default:
			var err error
			if cfg.CursorKey, err = cursor.ParseKey(key); err != nil {
				errs = append(errs, fmt.Errorf("HELPDESK_CURSOR_KEY (or HELPDESK_CURSOR_KEY_SECRET_ARN): %w", err))
			}
		}
	}
	switch v := os.Getenv("HELPDESK_WEBHOOK_ALLOW_PRIVATE"); v {
	case "", "0":
	case "1":
		cfg.WebhookAllowPrivate = true
	default:
		errs = append(errs, fmt.Errorf("HELPDESK_WEBHOOK_ALLOW_PRIVATE must be 1 or 0, not %q", v))
	}
	if lvl := os.Getenv("HELPDESK_LOG_LEVEL"); lvl != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			errs = append(errs, fmt.Errorf("HELPDESK_LOG_LEVEL: %w", err))
		}
	}
	return cfg, errors.Join(errs...)
}

// Logger returns the JSON logger the API writes to standard error.
func (c Config) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel}))
}

// NewHandler wires the API for endpoints (all when none) on a DynamoDB
// client.
func NewHandler(cfg Config, db dynamo.API, logger *slog.Logger, endpoints ...httpapi.Endpoint) (http.Handler, error) {
	var codec *cursor.Codec
	if cfg.CursorKey != nil {
		var err error
		if codec, err = cursor.New(cfg.CursorKey); err != nil {
			return nil, err
		}
	}
	return newHandler(cfg, dynamo.New(db, cfg.Table, codec), logger, endpoints...), nil
}

func newHandler(cfg Config, store *dynamo.Store, logger *slog.Logger, endpoints ...httpapi.Endpoint) http.Handler {
	return httpapi.New(httpapi.Config{
		Service:     helpdesk.NewService(store, store),
		Webhooks:    subscription.NewService(store, cfg.guard()),
		Auth:        auth.NewAuthenticator(store),
		Idempotency: store,
		Logger:      logger,
		Endpoints:   endpoints,
	})
}

func (c Config) guard() *ssrf.Guard { return &ssrf.Guard{AllowPrivate: c.WebhookAllowPrivate} }

// DispatchWorkers is how many webhook deliveries one dispatcher attempts at
// once.
const DispatchWorkers = 16

// NewDispatcher wires the webhook dispatcher on a DynamoDB client, with
// outbound requests through the SSRF guard.
func NewDispatcher(cfg Config, db dynamo.API, logger *slog.Logger) *webhook.Dispatcher {
	store := dynamo.New(db, cfg.Table, nil)
	return webhook.NewDispatcher(store, cfg.guard().Client(webhook.AttemptTimeout), logger, DispatchWorkers)
}

// Dispatcher loads the configuration and wires the webhook dispatcher, as
// the dispatch and retry functions' mains need it.
func Dispatcher() (*webhook.Dispatcher, *slog.Logger, error) {
	cfg, err := LoadDispatch()
	if err != nil {
		return nil, slog.Default(), fmt.Errorf("configuration: %w", err)
	}
	logger := cfg.Logger()
	db, err := DynamoDB()
	if err != nil {
		return nil, logger, err
	}
	return NewDispatcher(cfg, db, logger), logger, nil
}

// Handler loads the configuration and wires the API for endpoints, as a
// function's main needs it. For the Docs endpoint alone it builds no AWS
// client at all. A function whose cursor key is kept in a secret
// (CursorSecretARN) is wired with PagingHandler instead.
func Handler(endpoints ...httpapi.Endpoint) (http.Handler, *slog.Logger, error) {
	return PagingHandler(nil, endpoints...)
}

// KeyLoader makes, once, the function that fetches the cursor key from the
// secret named arn (cursorsecret.Loader). It is passed in by the mains that
// page, so that the Secrets Manager client is linked into no other function.
type KeyLoader func(awsCfg aws.Config, arn string) func(context.Context) ([]byte, error)

// PagingHandler is Handler for the functions that page (list, webhooks):
// when the cursor key is kept in a secret, loader reads it.
func PagingHandler(loader KeyLoader, endpoints ...httpapi.Endpoint) (http.Handler, *slog.Logger, error) {
	cfg, err := Load(endpoints...)
	if err != nil {
		return nil, slog.Default(), fmt.Errorf("configuration: %w", err)
	}
	logger := cfg.Logger()
	if !needsTable(endpoints) {
		return httpapi.New(httpapi.Config{Logger: logger, Endpoints: endpoints}), logger, nil
	}
	awsCfg, err := FunctionAWSConfig()
	if err != nil {
		return nil, logger, err
	}
	db := newDynamoDB(awsCfg)
	if cfg.CursorSecretARN == "" {
		h, err := NewHandler(cfg, db, logger, endpoints...)
		return h, logger, err
	}
	if loader == nil {
		return nil, logger, errors.New("HELPDESK_CURSOR_KEY_SECRET_ARN is set, but this function reads no secrets (its main must use app.PagingHandler)")
	}
	// The secret is read when a page first needs the key, not here: a cold
	// start then makes no Secrets Manager call, requests that never page
	// never wait for one, and a failed read fails only the requests that
	// needed the key (the next one reads again) instead of every start.
	// The loader's client is built here, once.
	key := cursor.NewLazy(loader(awsCfg, cfg.CursorSecretARN))
	return newHandler(cfg, dynamo.NewLazyCursors(db, cfg.Table, key.Codec), logger, endpoints...), logger, nil
}
