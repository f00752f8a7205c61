package lambdarun

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/config"
)

// Fail logs why the process cannot start and exits with status 1, so that
// Lambda reports a failed init with the reason in the function's log.
func Fail(logger *slog.Logger, err error) {
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	logger.Error("cannot start", slog.String("error", err.Error()))
	os.Exit(1)
}

// HTTP serves h to API Gateway's HTTP API (payload 2.0) and never
// returns.
func HTTP(h http.Handler) { lambda.Start(httpadapter.NewV2(h).ProxyWithContext) }

// Serve is the entry of a function with nothing to assemble (the openapi
// function): it reads the configuration, which it needs only for the log
// level and the CORS origins, and serves the handler handler builds. It
// never returns.
func Serve(handler func(logger *slog.Logger, corsOrigins []string) http.Handler) {
	cfg, err := config.FromEnv()
	if err != nil {
		Fail(nil, err)
	}
	HTTP(handler(cfg.Logger(), cfg.CORSOrigins))
}
