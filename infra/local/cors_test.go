package local_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/helpdesk/infra/local"
)

// TestRunCORS: the origins of Options reach the API, and an origin no
// browser sends stops the stack before it starts anything.
func TestRunCORS(t *testing.T) {
	const origin = "http://127.0.0.1:5173"
	base, _ := startWith(t, local.Options{DataDir: t.TempDir(), Out: io.Discard, CORSOrigins: []string{origin}})
	req, _ := http.NewRequest(http.MethodOptions, base+"/helpdesk/api/v1/tickets", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}

	err = local.Run(context.Background(), local.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Out: io.Discard,
		Logger: slog.New(slog.DiscardHandler), CORSOrigins: []string{origin + "/"}})
	if err == nil || !strings.Contains(err.Error(), "CORS origin") {
		t.Fatalf("Run with a malformed origin: %v", err)
	}
}
