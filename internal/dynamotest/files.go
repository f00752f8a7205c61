package dynamotest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
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

// stopFiles stops the package's S3 server, if a test started it.
func stopFiles() error {
	if s3Server == nil {
		return nil
	}
	return s3Server.Stop()
}
