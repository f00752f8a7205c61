package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/httpapi"
)

func TestLoad(t *testing.T) {
	const key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	cases := []struct {
		name, table, cursorKey, level string
		endpoints                     []httpapi.Endpoint
		wantErr                       []string
	}{
		{"All", "helpdesk", key, "", nil, nil},
		{"NoTable", "", key, "", nil, []string{"HELPDESK_TABLE"}},
		{"ListNeedsCursorKey", "t", "", "", []httpapi.Endpoint{httpapi.ListTickets}, []string{"HELPDESK_CURSOR_KEY"}},
		{"GetNeedsNoCursorKey", "t", "", "", []httpapi.Endpoint{httpapi.GetTicket}, nil},
		{"WebhooksNeedCursorKey", "t", "", "", []httpapi.Endpoint{httpapi.Webhooks}, []string{"HELPDESK_CURSOR_KEY"}},
		{"DocsNeedNoTable", "", "", "", []httpapi.Endpoint{httpapi.Docs}, nil},
		{"DocsAndGetNeedTheTable", "", "", "", []httpapi.Endpoint{httpapi.Docs, httpapi.GetTicket}, []string{"HELPDESK_TABLE"}},
		{"ShortCursorKey", "t", "c2hvcnQ=", "", nil, []string{"HELPDESK_CURSOR_KEY"}},
		{"BadLevel", "t", key, "loud", nil, []string{"HELPDESK_LOG_LEVEL"}},
		{"EverythingWrong", "", "x", "loud", nil, []string{"HELPDESK_TABLE", "HELPDESK_CURSOR_KEY", "HELPDESK_LOG_LEVEL"}},
	}
	t.Run("DispatchNeedsNoCursorKey", func(t *testing.T) {
		t.Setenv("HELPDESK_TABLE", "t")
		t.Setenv("HELPDESK_CURSOR_KEY", "")
		if _, err := app.LoadDispatch(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SecretARNInsteadOfKey", func(t *testing.T) {
		t.Setenv("HELPDESK_TABLE", "t")
		t.Setenv("HELPDESK_CURSOR_KEY", "")
		t.Setenv("HELPDESK_CURSOR_KEY_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:c")
		cfg, err := app.Load(httpapi.ListTickets)
		if err != nil || cfg.CursorSecretARN == "" || cfg.CursorKey != nil {
			t.Fatalf("Load = %+v, %v", cfg, err)
		}
		t.Setenv("HELPDESK_CURSOR_KEY", key)
		if _, err := app.Load(httpapi.ListTickets); err == nil || !strings.Contains(err.Error(), "not both") {
			t.Fatalf("both set: %v", err)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HELPDESK_TABLE", tc.table)
			t.Setenv("HELPDESK_CURSOR_KEY", tc.cursorKey)
			t.Setenv("HELPDESK_LOG_LEVEL", tc.level)
			cfg, err := app.Load(tc.endpoints...)
			if len(tc.wantErr) == 0 {
				if err != nil || cfg.Table != tc.table {
					t.Fatalf("Load = %+v, %v", cfg, err)
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

// TestDocsHandler wires the openapi function as its main does, with no
// table and no AWS configuration at all.
func TestDocsHandler(t *testing.T) {
	t.Setenv("HELPDESK_TABLE", "")
	t.Setenv("HELPDESK_CURSOR_KEY", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("HELPDESK_LOG_LEVEL", "error")
	h, _, err := app.Handler(httpapi.Docs)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", httpapi.BasePath+"/openapi.json", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), httpapi.OpenAPI()) {
		t.Fatalf("status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", httpapi.BasePath+"/tickets", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("the docs function serves GET /tickets: %d", rec.Code)
	}
}

// TestFunctionAWSConfig reads the environment as Lambda sets it, and
// refuses to start without what Lambda always sets.
func TestFunctionAWSConfig(t *testing.T) {
	set := func(region, id, secret, endpoint string) {
		t.Setenv("AWS_REGION", region)
		t.Setenv("AWS_ACCESS_KEY_ID", id)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		t.Setenv("AWS_SESSION_TOKEN", "token")
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	}
	set("eu-west-1", "AKID", "secret", "")
	cfg, err := app.FunctionAWSConfig()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" || cfg.Region != "eu-west-1" {
		t.Fatalf("config %+v, credentials %+v, %v", cfg, creds, err)
	}
	if cfg.BaseEndpoint != nil || cfg.ResponseChecksumValidation == aws.ResponseChecksumValidationWhenRequired {
		t.Fatal("without AWS_ENDPOINT_URL the config must use AWS's endpoints and checksums")
	}

	set("eu-west-1", "AKID", "secret", "http://127.0.0.1:8000")
	if cfg, err = app.FunctionAWSConfig(); err != nil || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:8000" ||
		cfg.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenRequired {
		t.Fatalf("with AWS_ENDPOINT_URL: %+v, %v", cfg, err)
	}

	set("", "", "", "")
	_, err = app.FunctionAWSConfig()
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("without Lambda's environment: %v", err)
	}
}
