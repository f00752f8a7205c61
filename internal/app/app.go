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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/webhook"
)

// Config is the API's configuration, read from the environment by Load.
type Config struct {
	// Table is the DynamoDB table (HELPDESK_TABLE, required).
	Table string
	// CursorKey seals list cursors (HELPDESK_CURSOR_KEY: 32 bytes in
	// base64); required where the list endpoint is served.
	CursorKey []byte
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
	var cfg Config
	var errs []error
	if cfg.Table = os.Getenv("HELPDESK_TABLE"); cfg.Table == "" {
		errs = append(errs, errors.New("HELPDESK_TABLE must name the DynamoDB table"))
	}
	if len(endpoints) == 0 || slices.Contains(endpoints, httpapi.ListTickets) {
		key, err := cursor.ParseKey(os.Getenv("HELPDESK_CURSOR_KEY"))
		if err != nil {
			errs = append(errs, fmt.Errorf("HELPDESK_CURSOR_KEY: %w", err))
		}
		cfg.CursorKey = key
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

// DynamoDB returns a DynamoDB client from the default AWS configuration
// (region, credentials, and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB
// for a local or emulated endpoint).
func DynamoDB(ctx context.Context) (*dynamodb.Client, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
		// Emulators such as DynamoDB Local send no response checksums.
		opts = append(opts,
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(awsCfg), nil
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
	store := dynamo.New(db, cfg.Table, codec)
	return httpapi.New(httpapi.Config{
		Service:   helpdesk.NewService(store, store),
		Webhooks:  webhook.NewService(store, cfg.guard()),
		Auth:      auth.NewAuthenticator(store),
		Logger:    logger,
		Endpoints: endpoints,
	}), nil
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
func Dispatcher(ctx context.Context) (*webhook.Dispatcher, *slog.Logger, error) {
	cfg, err := Load(httpapi.Webhooks)
	if err != nil {
		return nil, slog.Default(), fmt.Errorf("configuration: %w", err)
	}
	logger := cfg.Logger()
	db, err := DynamoDB(ctx)
	if err != nil {
		return nil, logger, err
	}
	return NewDispatcher(cfg, db, logger), logger, nil
}

// Handler loads the configuration and wires the API for endpoints, as a
// function's main needs it.
func Handler(ctx context.Context, endpoints ...httpapi.Endpoint) (http.Handler, *slog.Logger, error) {
	cfg, err := Load(endpoints...)
	if err != nil {
		return nil, slog.Default(), fmt.Errorf("configuration: %w", err)
	}
	logger := cfg.Logger()
	db, err := DynamoDB(ctx)
	if err != nil {
		return nil, logger, err
	}
	h, err := NewHandler(cfg, db, logger, endpoints...)
	return h, logger, err
}
