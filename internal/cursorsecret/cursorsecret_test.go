package cursorsecret_test

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

	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/cursorsecret"
)

// TestKey reads the secret through the real Secrets Manager
// client from a local server that answers GetSecretValue as the service
// does (Secrets Manager itself cannot be reached here).
func TestKey(t *testing.T) {
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
	key, err := cursorsecret.Key(ctx, sm, "long")
	want := sha256.Sum256([]byte(secrets["long"]))
	if err != nil || !bytes.Equal(key, want[:]) {
		t.Fatalf("key %x, %v", key, err)
	}
	if _, err := cursor.New(key); err != nil {
		t.Fatalf("the derived key does not make a codec: %v", err)
	}
	if _, err := cursorsecret.Key(ctx, sm, "short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if _, err := cursorsecret.Key(ctx, sm, "missing"); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("missing secret: %v", err)
	}
}
