package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ratelimit"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/subscription"
)

// Clients are the outside services the system runs on, made once per
// process.
type Clients struct {
	// DynamoDB is the table's client.
	DynamoDB dynamo.API
	// CursorKey reads the cursor key when Config.CursorSecretARN names
	// one, on the first page that needs it (see KeyLoader); nil otherwise.
	CursorKey func(context.Context) ([]byte, error)
	// Files is the bucket of uploads and attachments; nil in a process
	// that serves no files (a comment with uploads is then refused).
	Files helpdesk.FileStore
}

// System is the whole helpdesk, assembled once: the store, the services
// on it, and what serves them. Every process builds it with New (or Load)
// and takes the parts it runs.
type System struct {
	// Config is the configuration the system was built from.
	Config config.Config
	// Logger is where every part of the system logs.
	Logger *slog.Logger
	// Store is the single-table store every service uses.
	Store *dynamo.Store
	// Tickets carries out the ticket and custom field operations.
	Tickets *helpdesk.Service
	// Conversations carries out the comment operations.
	Conversations *helpdesk.Conversations
	// Uploads carries out the upload operation.
	Uploads *helpdesk.Uploads
	// Files is the bucket of uploads and attachments, or nil.
	Files helpdesk.FileStore
	// Activity reads the activity record: the change feed and the
	// tickets' histories.
	Activity *helpdesk.Activity
	// Trash lists, restores and purges deleted tickets.
	Trash *helpdesk.Trash
	// Subscriptions carries out the webhook subscription API.
	Subscriptions *subscription.Service
	// Auth resolves API keys.
	Auth *auth.Authenticator
	// Keys carries out the API key management API.
	Keys *helpdesk.APIKeys
	// Limiter holds each API key to its requests per minute, counted in
	// the table; nil when Config.RateLimit is zero.
	Limiter *ratelimit.Limiter
	// Guard is the SSRF guard: it vets subscription URLs, and its client
	// makes the deliveries.
	Guard *ssrf.Guard
}

// New assembles the system on clients. The cursor codec comes from
// cfg.CursorKey, or from clients.CursorKey when the key is kept in a
// secret; without either, listing answers an internal error.
func New(cfg config.Config, clients Clients, logger *slog.Logger) (*System, error) {
	var store *dynamo.Store
	switch {
	case cfg.CursorKey != nil:
		codec, err := cursor.New(cfg.CursorKey)
		if err != nil {
			return nil, err
		}
		store = dynamo.New(clients.DynamoDB, cfg.Table, codec)
	case cfg.CursorSecretARN != "":
		if clients.CursorKey == nil {
			return nil, errors.New("HELPDESK_CURSOR_KEY_SECRET_ARN is set, but this process reads no secrets (its main must pass a KeyLoader)")
		}
		store = dynamo.NewLazyCursors(clients.DynamoDB, cfg.Table, cursor.NewLazy(clients.CursorKey).Codec)
	default:
		store = dynamo.New(clients.DynamoDB, cfg.Table, nil)
	}
	guard := &ssrf.Guard{AllowPrivate: cfg.WebhookAllowPrivate}
	authenticator := auth.NewAuthenticator(store)
	if logger != nil {
		authenticator.SetLogger(logger)
	}
	var limiter *ratelimit.Limiter
	if cfg.RateLimit > 0 {
		limiter = ratelimit.New(store, cfg.RateLimit, ratelimit.Options{})
	}
	conversations := helpdesk.NewConversations(store, store)
	conversations.Uploads, conversations.Files = store, clients.Files
	return &System{
		Config:        cfg,
		Logger:        logger,
		Store:         store,
		Tickets:       helpdesk.NewService(store, store),
		Conversations: conversations,
		Uploads:       &helpdesk.Uploads{Store: store, Files: clients.Files},
		Files:         clients.Files,
		Activity:      helpdesk.NewActivity(store),
		Trash:         helpdesk.NewTrash(store),
		Subscriptions: subscription.NewService(store, guard),
		Auth:          authenticator,
		Keys:          &helpdesk.APIKeys{Store: store, NewKey: auth.NewKey},
		Limiter:       limiter,
		Guard:         guard,
	}, nil
}

// KeyLoader makes, once, the function that fetches the cursor key from the
// secret named arn (cursorsecret.Loader). It is passed in by the mains that
// page, so that the Secrets Manager client is linked into no other
// function.
type KeyLoader func(awsCfg aws.Config, arn string) func(context.Context) ([]byte, error)

// FilesOpener makes the store of the files bucket (filestore.Open). It is
// passed in by the mains that serve or discard files, so that the S3
// client is linked into no other function.
type FilesOpener func(awsCfg aws.Config, bucket string, logger *slog.Logger) helpdesk.FileStore

// Load assembles the system of a Lambda function from its environment:
// the configuration (config.FromEnv) and the AWS clients
// (FunctionAWSConfig). A function that pages passes loader, and then needs
// a cursor key or its secret; one that serves or discards files passes
// files, and then needs the bucket; the others pass nil. The logger is
// returned even with an error, to report it.
func Load(loader KeyLoader, files FilesOpener) (*System, *slog.Logger, error) {
	needs := []config.Need{config.NeedTable}
	if loader != nil {
		needs = append(needs, config.NeedCursorKey)
	}
	if files != nil {
		needs = append(needs, config.NeedFiles)
	}
	cfg, err := config.FromEnv(needs...)
	logger := cfg.Logger()
	if err != nil {
		return nil, logger, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := FunctionAWSConfig()
	if err != nil {
		return nil, logger, err
	}
	clients := Clients{DynamoDB: newDynamoDB(awsCfg)}
	if files != nil {
		clients.Files = files(awsCfg, cfg.FilesBucket, logger)
	}
	if cfg.CursorSecretARN != "" && loader != nil {
		// The secret is read when a page first needs the key, not here: a
		// cold start then makes no Secrets Manager call, requests that
		// never page never wait for one, and a failed read fails only the
		// requests that needed the key (the next one reads again) instead
		// of every start. The loader's client is built here, once.
		clients.CursorKey = loader(awsCfg, cfg.CursorSecretARN)
	}
	sys, err := New(cfg, clients, logger)
	return sys, logger, err
}
