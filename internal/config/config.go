package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// Config is the system's configuration. FromEnv reads it in a function;
// the local stack and the tests fill it in directly.
type Config struct {
	// Table is the DynamoDB table (HELPDESK_TABLE).
	Table string
	// CursorKey seals list cursors (HELPDESK_CURSOR_KEY: 32 bytes in
	// base64).
	CursorKey []byte
	// CursorSecretARN names a Secrets Manager secret whose string, hashed
	// with SHA-256, is the cursor key (HELPDESK_CURSOR_KEY_SECRET_ARN), as
	// deployed stacks keep it. It is read when a page first needs the key.
	CursorSecretARN string
	// LogLevel is the least level logged (HELPDESK_LOG_LEVEL: debug, info,
	// warn, error; default info).
	LogLevel slog.Level
	// WebhookAllowPrivate relaxes the webhook SSRF guard for local
	// development (HELPDESK_WEBHOOK_ALLOW_PRIVATE=1): http URLs and
	// loopback or private addresses. Deployed stacks never set it.
	WebhookAllowPrivate bool
	// RateLimit is the requests per minute an API key may make unless it
	// has a limit of its own (HELPDESK_RATE_LIMIT, a positive integer;
	// DefaultRateLimit when unset). Zero turns rate limiting off: FromEnv
	// never leaves it zero, but tests and benchmarks that build a Config
	// measure without it.
	RateLimit int
	// CORSOrigins are the origins whose pages may call the API from a
	// browser (HELPDESK_CORS_ORIGINS: comma-separated, each
	// scheme://host[:port] as a browser sends it, or * alone for any);
	// none when empty, and then no answer carries CORS headers.
	CORSOrigins []string
	// FilesBucket is the S3 bucket of uploads and attachments
	// (HELPDESK_FILES_BUCKET), for the processes that serve or discard
	// them.
	FilesBucket string
	// DispatchWorkers is how many webhook deliveries one dispatcher
	// attempts at once; zero means DefaultDispatchWorkers. Not read from
	// the environment: tests lower it to make the order of attempts
	// predictable.
	DispatchWorkers int
}

// DefaultDispatchWorkers is the dispatcher's concurrency when
// Config.DispatchWorkers is zero.
const DefaultDispatchWorkers = 16

// DefaultRateLimit is the requests per minute of a key without a limit of
// its own when HELPDESK_RATE_LIMIT is unset.
const DefaultRateLimit = 1200

// ParseRateLimit reads a HELPDESK_RATE_LIMIT value: DefaultRateLimit when
// empty, otherwise a positive integer no larger than a key's own limit may
// be (helpdesk.MaxRateLimit), so that RateLimit-Limit has one bound.
func ParseRateLimit(v string) (int, error) {
	if v == "" {
		return DefaultRateLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > helpdesk.MaxRateLimit {
		return 0, fmt.Errorf("HELPDESK_RATE_LIMIT must be a whole number of requests per minute from 1 to %d, not %q", helpdesk.MaxRateLimit, v)
	}
	return n, nil
}

// ParseCORSOrigins reads a HELPDESK_CORS_ORIGINS value: a comma-separated
// list of origins, checked by CheckCORSOrigins; none when empty.
func ParseCORSOrigins(v string) ([]string, error) {
	var origins []string
	for o := range strings.SplitSeq(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	if err := CheckCORSOrigins(origins); err != nil {
		return nil, fmt.Errorf("HELPDESK_CORS_ORIGINS: %w", err)
	}
	return origins, nil
}

// CheckCORSOrigins reports the first origin a browser could never send as
// written, since a near miss would fail every call without a word: each
// must be scheme://host[:port], http or https, lowercase, without a path
// or a default port; or * (any origin), then alone.
func CheckCORSOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			if len(origins) > 1 {
				return errors.New("* allows every origin; list no other origin with it")
			}
			continue
		}
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("CORS origin %q: %w", o, err)
		}
	}
	return nil
}

var originHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Scheme+"://"+u.Host != o {
		return errors.New("want scheme://host[:port] with http or https, no path, and no trailing slash (e.g. https://desk.example.com or http://localhost:5173)")
	}
	if o != strings.ToLower(o) {
		return errors.New("write it in lowercase, as browsers send it")
	}
	if host := u.Hostname(); !originHost.MatchString(host) && net.ParseIP(host) == nil {
		return errors.New("the host takes letters, digits, dots and dashes only: no wildcard")
	}
	switch port := u.Port(); {
	case port == "" && strings.HasSuffix(u.Host, ":"):
		return errors.New("the port is empty")
	case port == "":
	case (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443"):
		return errors.New("leave the default port out, as browsers do")
	default:
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Errorf("port %q: want 1 to 65535", port)
		}
	}
	return nil
}

// Workers is the dispatcher's concurrency.
func (c Config) Workers() int {
	if c.DispatchWorkers > 0 {
		return c.DispatchWorkers
	}
	return DefaultDispatchWorkers
}

// Need is a setting a process cannot run without.
type Need int

// The settings a process may need.
const (
	// NeedTable: every process that touches DynamoDB.
	NeedTable Need = iota + 1
	// NeedCursorKey: the processes that page (HELPDESK_CURSOR_KEY or
	// HELPDESK_CURSOR_KEY_SECRET_ARN, not both).
	NeedCursorKey
	// NeedFiles: the processes that serve or discard files
	// (HELPDESK_FILES_BUCKET).
	NeedFiles
)

// FromEnv reads every setting from the environment and checks that those
// in needs are present; the error names each setting that is missing or
// malformed.
func FromEnv(needs ...Need) (Config, error) {
	need := map[Need]bool{}
	for _, n := range needs {
		need[n] = true
	}
	var cfg Config
	var errs []error
	if cfg.Table = os.Getenv("HELPDESK_TABLE"); cfg.Table == "" && need[NeedTable] {
		errs = append(errs, errors.New("HELPDESK_TABLE must name the DynamoDB table"))
	}
	key, arn := os.Getenv("HELPDESK_CURSOR_KEY"), os.Getenv("HELPDESK_CURSOR_KEY_SECRET_ARN")
	switch {
	case key != "" && arn != "":
		errs = append(errs, errors.New("set HELPDESK_CURSOR_KEY or HELPDESK_CURSOR_KEY_SECRET_ARN, not both"))
	case arn != "":
		cfg.CursorSecretARN = arn
	case key != "" || need[NeedCursorKey]:
		var err error
		if cfg.CursorKey, err = cursor.ParseKey(key); err != nil {
			errs = append(errs, fmt.Errorf("HELPDESK_CURSOR_KEY (or HELPDESK_CURSOR_KEY_SECRET_ARN): %w", err))
		}
	}
	if cfg.FilesBucket = os.Getenv("HELPDESK_FILES_BUCKET"); cfg.FilesBucket == "" && need[NeedFiles] {
		errs = append(errs, errors.New("HELPDESK_FILES_BUCKET must name the S3 bucket of uploads and attachments"))
	}
	switch v := os.Getenv("HELPDESK_WEBHOOK_ALLOW_PRIVATE"); v {
	case "", "0":
	case "1":
		cfg.WebhookAllowPrivate = true
	default:
		errs = append(errs, fmt.Errorf("HELPDESK_WEBHOOK_ALLOW_PRIVATE must be 1 or 0, not %q", v))
	}
	var err error
	if cfg.CORSOrigins, err = ParseCORSOrigins(os.Getenv("HELPDESK_CORS_ORIGINS")); err != nil {
		errs = append(errs, err)
	}
	if cfg.RateLimit, err = ParseRateLimit(os.Getenv("HELPDESK_RATE_LIMIT")); err != nil {
		errs = append(errs, err)
	}
	if lvl := os.Getenv("HELPDESK_LOG_LEVEL"); lvl != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			errs = append(errs, fmt.Errorf("HELPDESK_LOG_LEVEL: %w", err))
		}
	}
	return cfg, errors.Join(errs...)
}

// Logger returns the JSON logger the system writes to standard error.
func (c Config) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel}))
}
