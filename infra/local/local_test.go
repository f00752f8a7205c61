package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/openapitest"
)

// syncBuffer is a buffer the stack can write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the stack until the test ends and returns its base URL and a
// function that stops it and returns Run's error.
func start(t *testing.T, dataDir string, keys map[helpdesk.Permission]string, out io.Writer) (string, func() error) {
	t.Helper()
	return startWith(t, local.Options{DataDir: dataDir, Keys: keys, Out: out})
}

// startWith is start with more options.
func startWith(t *testing.T, opts local.Options) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		opts.Addr = "127.0.0.1:0"
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		opts.Ready = func(base string) { ready <- base }
		done <- local.Run(ctx, opts)
	}()
	var stopped bool
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case base := <-ready:
		return base, stop
	case err := <-done:
		t.Fatalf("the stack did not start: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("the stack did not start in 90 s")
	}
	return "", nil
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := openapitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestRunServesAndPersists starts the stack with configured keys, writes a
// ticket and a page cursor, stops it, starts it again on the same data
// folder and finds both still valid.
func TestRunServesAndPersists(t *testing.T) {
	dataDir := t.TempDir()
	keys := map[helpdesk.Permission]string{}
	for _, p := range helpdesk.Permissions {
		keys[p], _, _ = auth.NewKey()
	}
	out := &syncBuffer{}
	baseURL, stop := start(t, dataDir, keys, out)
	api := baseURL + "/helpdesk/api/v1"
	for _, subject := range []string{"first", "second"} {
		if status, body := call(t, "POST", api+"/tickets", keys[helpdesk.PermWrite], `{"ticket":{"subject":"`+subject+`"}}`); status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, body)
		}
	}
	status, page := call(t, "GET", api+"/tickets?page_size=1", keys[helpdesk.PermRead], "")
	next, _ := page["links"].(map[string]any)["next"].(string)
	if status != http.StatusOK || next == "" {
		t.Fatalf("list: %d %v", status, page)
	}
	for _, k := range keys {
		if strings.Contains(out.String(), k) {
			t.Fatal("the banner printed a configured key")
		}
	}
	env, err := os.ReadFile(filepath.Join(dataDir, "env"))
	if err != nil || !strings.Contains(string(env), "AWS_ENDPOINT_URL=http://127.0.0.1:") {
		t.Fatalf("env file: %q, %v", env, err)
	}
	endpoint := strings.TrimPrefix(strings.Split(string(env), "\n")[0], "AWS_ENDPOINT_URL=")
	db, err := ddblocal.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(local.TableName)})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != dynamo.Table.TTLAttribute {
		t.Fatalf("TTL: %+v, %v", ttl, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := http.Get(endpoint); err == nil {
		t.Fatal("DynamoDB Local still answers after the stack stopped")
	}

	baseURL, _ = start(t, dataDir, keys, io.Discard)
	status, page = call(t, "GET", baseURL+next, keys[helpdesk.PermRead], "")
	if status != http.StatusOK || len(page["tickets"].([]any)) != 1 {
		t.Fatalf("the cursor of the first run: %d %v", status, page)
	}

	t.Run("OversizedHeaders", func(t *testing.T) {
		// Past API Gateway's 10 KiB the API answers its JSON 431; past the
		// server's own bound, the server answers in plain text.
		for _, c := range []struct {
			padding int
			json    bool
		}{{httpapi.MaxHeaderBytes, true}, {2 * httpapi.MaxHeaderBytes, true}, {2 * local.ServerMaxHeaderBytes, false}} {
			req, _ := http.NewRequest("GET", baseURL+"/helpdesk/api/v1/tickets", nil)
			req.Header.Set("Authorization", "Bearer "+keys[helpdesk.PermRead])
			req.Header.Set("X-Padding", strings.Repeat("p", c.padding))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var body struct{ Error struct{ Code string } }
			isJSON := res.Header.Get("Content-Type") == "application/json" && json.Unmarshal(raw, &body) == nil && body.Error.Code == "HEADERS_TOO_LARGE" &&
				res.Header.Get("X-Request-Id") != ""
			if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || isJSON != c.json {
				t.Fatalf("headers of %d bytes: %d %q %s, want 431 (JSON %v)", c.padding, res.StatusCode, res.Header.Get("Content-Type"), raw, c.json)
			}
		}
		// Just under the bound is served.
		req, _ := http.NewRequest("GET", baseURL+"/helpdesk/api/v1/tickets", nil)
		req.Header.Set("Authorization", "Bearer "+keys[helpdesk.PermRead])
		req.Header.Set("X-Padding", strings.Repeat("p", httpapi.MaxHeaderBytes-1024))
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("headers under the bound: %v %v", res, err)
		} else {
			res.Body.Close()
		}
		if status, _ := call(t, "GET", baseURL+"/helpdesk/api/v1/tickets", keys[helpdesk.PermRead], ""); status != http.StatusOK {
			t.Fatalf("after oversized headers the API answers %d", status)
		}
	})
}

// TestGeneratedKeys: without configured keys, three are generated and
// printed once; the next run's keys replace them.
func TestGeneratedKeys(t *testing.T) {
	dataDir := t.TempDir()
	out := &syncBuffer{}
	baseURL, stop := start(t, dataDir, nil, out)
	printed := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 3 && fields[1] == "key:" {
			printed[fields[0]] = fields[2]
		}
	}
	if len(printed) != 3 || !strings.Contains(out.String(), baseURL+"/helpdesk/api/v1/docs") {
		t.Fatalf("banner (three keys and the reference page): %s", out.String())
	}
	if status, _ := call(t, "POST", baseURL+"/helpdesk/api/v1/custom_fields", printed["admin"], `{"customField":{"name":"A","type":"text"}}`); status != http.StatusCreated {
		t.Fatalf("admin key: %d", status)
	}
	if status, _ := call(t, "POST", baseURL+"/helpdesk/api/v1/tickets", printed["read"], `{"ticket":{"subject":"x"}}`); status != http.StatusForbidden {
		t.Fatalf("read key may write: %d", status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	baseURL, _ = start(t, dataDir, nil, io.Discard)
	if status, _ := call(t, "GET", baseURL+"/helpdesk/api/v1/tickets", printed["read"], ""); status != http.StatusUnauthorized {
		t.Fatalf("the previous run's generated key still works: %d", status)
	}
}
