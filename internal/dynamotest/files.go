package dynamotest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/s3local"
)

// The package's S3 server, started by the first test that asks for Files
// and stopped by Main.
var (
	s3Once   sync.Once
	s3Server *s3local.Server
	s3Client *s3.Client
	s3Err    error
)

// Files is a fresh bucket of the package's S3 server and the file store on
// it.
type Files struct {
	Store  *filestore.Store
	Client *s3.Client
	Bucket string
}

// NewFiles starts the package's S3 server if it is not running yet (one
// per package, stopped by Main) and returns a fresh bucket on it. Without
// the server installed the test is skipped, naming make s3-server, unless
// HELPDESK_S3_SERVER is set (as make test sets it): then it fails.
func NewFiles(tb testing.TB) *Files {
	tb.Helper()
	s3Once.Do(func() {
		if _, err := s3local.Find(""); err != nil {
			s3Err = err
			return
		}
		ctx := context.Background()
		if s3Server, s3Err = s3local.Start(ctx, s3local.Options{}); s3Err != nil {
			return
		}
		id, secret := s3Server.Credentials()
		s3Client, s3Err = s3local.NewClient(ctx, s3Server.Endpoint(), id, secret)
	})
	switch {
	case s3Err != nil && os.Getenv(s3local.EnvServer) == "":
		tb.Skipf("no S3 server: %v (make test runs this test with it)", s3Err)
	case s3Err != nil:
		tb.Fatalf("dynamotest: the S3 server: %v", s3Err)
	}
	bucket := fmt.Sprintf("files-%016x", rand.Uint64())
	if _, err := s3Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("create bucket %s: %v", bucket, err)
	}
	return &Files{Store: filestore.New(s3Client, bucket, slog.New(slog.DiscardHandler)), Client: s3Client, Bucket: bucket}
}

// S3Requests counts the requests an S3 client sent, by kind: "PUT",
// "COPY" (a PUT with x-amz-copy-source), "GET", "HEAD", "DELETE" and so
// on. It is safe for concurrent use.
type S3Requests struct {
	mu     sync.Mutex
	counts map[string]int
}

// Take returns the counts since the last Take and starts afresh.
func (c *S3Requests) Take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// RoundTrip implements http.RoundTripper: it counts the request and sends
// it.
func (c *S3Requests) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := r.Method
	if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
		kind = "COPY"
	}
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[kind]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// Counted returns a file store on the same bucket whose S3 client counts
// every request it sends.
func (f *Files) Counted(tb testing.TB) (*filestore.Store, *S3Requests) {
	tb.Helper()
	counts := &S3Requests{}
	id, secret := s3Server.Credentials()
	client, err := s3local.NewClient(context.Background(), s3Server.Endpoint(), id, secret, func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: counts}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return filestore.New(client, f.Bucket, slog.New(slog.DiscardHandler)), counts
}

// stopFiles stops the package's S3 server, if a test started it.
func stopFiles() error {
	if s3Server == nil {
		return nil
	}
	return s3Server.Stop()
}

// SendUpload sends body with an upload's presigned request, as an API
// answer gave it (the "upload" object), the way a client does: its
// method, its URL and its Content-Type, or contentType instead when not
// empty (net/http sets Content-Length from body). It returns the storage's
// status.
func SendUpload(tb testing.TB, upload map[string]any, body []byte, contentType string) int {
	tb.Helper()
	req, err := http.NewRequest(upload["uploadMethod"].(string), upload["uploadUrl"].(string), bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType == "" {
		contentType = upload["uploadHeaders"].(map[string]any)["Content-Type"].(string)
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// Download gets a presigned URL without a key and returns the answer and
// its body.
func Download(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, body
}
