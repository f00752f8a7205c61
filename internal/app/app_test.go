package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/cursor"
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

// TestCursorKeyFromSecret reads the secret through the real Secrets Manager
// client from a local server that answers GetSecretValue as the service
// does (Secrets Manager itself cannot be reached here).
func TestCursorKeyFromSecret(t *testing.T) {
	secrets := map[string]string{"long": strings.Repeat("k", 64), "short": "too-short"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		v, ok := secrets[in.SecretId]
		if !ok {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","Message":"no such secret"}`))
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]string{"ARN": in.SecretId, "Name": in.SecretId, "SecretString": v})
	}))
	defer srv.Close()
	sm := secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	ctx := context.Background()
	key, err := app.CursorKeyFromSecret(ctx, sm, "long")
	want := sha256.Sum256([]byte(secrets["long"]))
	if err != nil || !bytes.Equal(key, want[:]) {
		t.Fatalf("key %x, %v", key, err)
	}
	if _, err := cursor.New(key); err != nil {
		t.Fatalf("the derived key does not make a codec: %v", err)
	}
	if _, err := app.CursorKeyFromSecret(ctx, sm, "short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if _, err := app.CursorKeyFromSecret(ctx, sm, "missing"); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("missing secret: %v", err)
	}
}

// TestDocsHandler wires the openapi function as its main does, with no
// table and no AWS configuration at all.
func TestDocsHandler(t *testing.T) {
	t.Setenv("HELPDESK_TABLE", "")
	t.Setenv("HELPDESK_CURSOR_KEY", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("HELPDESK_LOG_LEVEL", "error")
	h, _, err := app.Handler(context.Background(), httpapi.Docs)
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
