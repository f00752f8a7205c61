// Command local runs the Helpdesk system on this machine: DynamoDB Local,
// the table, API keys and every API route on 127.0.0.1:${HELPDESK_PORT:-8080}.
// `make run` builds and starts it; Ctrl-C or SIGTERM stops everything.
//
// Environment: HELPDESK_PORT, HELPDESK_DATA_DIR (default .local/data),
// HELPDESK_LOCAL_ADMIN_KEY, HELPDESK_LOCAL_WRITE_KEY, HELPDESK_LOCAL_READ_KEY
// to register known keys instead of generated ones, and
// HELPDESK_WEBHOOK_ALLOW_PRIVATE=1 to let webhooks reach receivers on this
// machine (make run sets it), HELPDESK_RATE_LIMIT, the requests per
// minute of a key without its own limit (default 1,200, as deployed), and
// HELPDESK_CORS_ORIGINS, the origins whose pages may call the API
// (docs/cors.md).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/helpdesk"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	port := os.Getenv("HELPDESK_PORT")
	if port == "" {
		port = "8080"
	}
	dataDir := os.Getenv("HELPDESK_DATA_DIR")
	if dataDir == "" {
		dataDir = ".local/data"
	}
	keys := map[helpdesk.Permission]string{}
	for _, perm := range helpdesk.Permissions {
		if k := os.Getenv("HELPDESK_LOCAL_" + strings.ToUpper(string(perm)) + "_KEY"); k != "" {
			keys[perm] = k
		}
	}
	rateLimit, err := config.ParseRateLimit(os.Getenv("HELPDESK_RATE_LIMIT"))
	if err != nil {
		logger.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	corsOrigins, err := config.ParseCORSOrigins(os.Getenv("HELPDESK_CORS_ORIGINS"))
	if err != nil {
		logger.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = local.Run(ctx, local.Options{
		Addr: "127.0.0.1:" + port, DataDir: dataDir, Keys: keys, Out: os.Stdout, Logger: logger,
		WebhookAllowPrivate: os.Getenv("HELPDESK_WEBHOOK_ALLOW_PRIVATE") == "1", RateLimit: rateLimit,
		CORSOrigins: corsOrigins,
	})
	if err != nil {
		logger.Error("local stack failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}
