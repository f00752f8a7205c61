package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/config"
)

func TestFromEnv(t *testing.T) {
	const key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	all := []config.Need{config.NeedTable, config.NeedCursorKey}
	cases := []struct {
		name, table, cursorKey, level string
		needs                         []config.Need
		wantErr                       []string
	}{
		{"All", "helpdesk", key, "", all, nil},
		{"NoTable", "", key, "", all, []string{"HELPDESK_TABLE"}},
		{"CursorKeyNeeded", "t", "", "", all, []string{"HELPDESK_CURSOR_KEY"}},
		{"CursorKeyNotNeeded", "t", "", "", []config.Need{config.NeedTable}, nil},
		{"NothingNeeded", "", "", "", nil, nil},
		{"ShortCursorKey", "t", "c2hvcnQ=", "", all, []string{"HELPDESK_CURSOR_KEY"}},
		{"ShortCursorKeyNotNeeded", "t", "c2hvcnQ=", "", nil, []string{"HELPDESK_CURSOR_KEY"}},
		{"BadLevel", "t", key, "loud", all, []string{"HELPDESK_LOG_LEVEL"}},
		{"EverythingWrong", "", "x", "loud", all, []string{"HELPDESK_TABLE", "HELPDESK_CURSOR_KEY", "HELPDESK_LOG_LEVEL"}},
	}
	t.Run("SecretARNInsteadOfKey", func(t *testing.T) {
		t.Setenv("HELPDESK_TABLE", "t")
		t.Setenv("HELPDESK_CURSOR_KEY", "")
		t.Setenv("HELPDESK_CURSOR_KEY_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:c")
		cfg, err := config.FromEnv(all...)
		if err != nil || cfg.CursorSecretARN == "" || cfg.CursorKey != nil {
			t.Fatalf("FromEnv = %+v, %v", cfg, err)
		}
		t.Setenv("HELPDESK_CURSOR_KEY", key)
		if _, err := config.FromEnv(all...); err == nil || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("both set: %v", err)
		}
	})
	t.Run("RateLimit", func(t *testing.T) {
		for v, want := range map[string]int{"": config.DefaultRateLimit, "1": 1, "600": 600, "1000000": 1_000_000} {
			t.Setenv("HELPDESK_RATE_LIMIT", v)
			if cfg, err := config.FromEnv(); err != nil || cfg.RateLimit != want {
				t.Fatalf("%q: %+v, %v", v, cfg, err)
			}
		}
		for _, v := range []string{"0", "-5", "1.5", "lots", " 60", "1000001"} {
			t.Setenv("HELPDESK_RATE_LIMIT", v)
			if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "HELPDESK_RATE_LIMIT") {
				t.Fatalf("%q: %v", v, err)
			}
		}
	})
	t.Run("CORSOrigins", func(t *testing.T) {
		t.Setenv("HELPDESK_CORS_ORIGINS", " https://desk.example.com, http://localhost:5173 ,")
		if cfg, err := config.FromEnv(); err != nil || !slices.Equal(cfg.CORSOrigins, []string{"https://desk.example.com", "http://localhost:5173"}) {
			t.Fatalf("FromEnv = %+v, %v", cfg, err)
		}
		t.Setenv("HELPDESK_CORS_ORIGINS", "https://desk.example.com/")
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "HELPDESK_CORS_ORIGINS") {
			t.Fatalf("trailing slash: %v", err)
		}
	})
	t.Run("AllowPrivate", func(t *testing.T) {
		for v, want := range map[string]bool{"": false, "0": false, "1": true} {
			t.Setenv("HELPDESK_WEBHOOK_ALLOW_PRIVATE", v)
			if cfg, err := config.FromEnv(); err != nil || cfg.WebhookAllowPrivate != want {
				t.Fatalf("%q: %+v, %v", v, cfg, err)
			}
		}
		t.Setenv("HELPDESK_WEBHOOK_ALLOW_PRIVATE", "yes")
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "HELPDESK_WEBHOOK_ALLOW_PRIVATE") {
			t.Fatalf("yes: %v", err)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HELPDESK_TABLE", tc.table)
			t.Setenv("HELPDESK_CURSOR_KEY", tc.cursorKey)
			t.Setenv("HELPDESK_CURSOR_KEY_SECRET_ARN", "")
			t.Setenv("HELPDESK_LOG_LEVEL", tc.level)
			cfg, err := config.FromEnv(tc.needs...)
			if len(tc.wantErr) == 0 {
				if err != nil || cfg.Table != tc.table {
					t.Fatalf("FromEnv = %+v, %v", cfg, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not name %s", err, w)
				}
			}
		})
	}
}

func TestParseCORSOrigins(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ", nil},
		{"*", []string{"*"}},
		{"https://desk.example.com", []string{"https://desk.example.com"}},
		{"http://localhost:5173,http://127.0.0.1:8081", []string{"http://localhost:5173", "http://127.0.0.1:8081"}},
		{"http://[::1]:3000", []string{"http://[::1]:3000"}},
		{"https://desk.example.com:8443", []string{"https://desk.example.com:8443"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := config.ParseCORSOrigins(tc.in)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseCORSOrigins(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for name, in := range map[string]string{
		"StarWithOthers": "*,https://desk.example.com",
		"NoScheme":       "desk.example.com",
		"OtherScheme":    "ftp://desk.example.com",
		"Path":           "https://desk.example.com/app",
		"TrailingSlash":  "https://desk.example.com/",
		"Query":          "https://desk.example.com?x=1",
		"UserInfo":       "https://me@desk.example.com",
		"Uppercase":      "https://Desk.example.com",
		"DefaultPort":    "https://desk.example.com:443",
		"DefaultHTTP":    "http://localhost:80",
		"EmptyPort":      "http://localhost:",
		"PortTooLarge":   "http://localhost:70000",
		"PortZero":       "http://localhost:0",
		"WildcardHost":   "https://*.example.com",
		"Null":           "null",
		"NoHost":         "https://",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := config.ParseCORSOrigins(in); err == nil || !strings.Contains(err.Error(), "HELPDESK_CORS_ORIGINS") {
				t.Fatalf("ParseCORSOrigins(%q) = %q, %v; want an error naming the setting", in, got, err)
			}
		})
	}
}

func TestWorkers(t *testing.T) {
	if n := (config.Config{}).Workers(); n != config.DefaultDispatchWorkers {
		t.Fatalf("default workers %d", n)
	}
	if n := (config.Config{DispatchWorkers: 3}).Workers(); n != 3 {
		t.Fatalf("workers %d", n)
	}
}
