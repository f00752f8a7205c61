package s3local_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acme/helpdesk/internal/s3local"
)

// needServer skips the test when versitygw is not installed and
// HELPDESK_S3_SERVER is unset. When it is set, a server that is not there
// or does not start fails the test.
func needServer(t *testing.T) {
	t.Helper()
	if os.Getenv(s3local.EnvServer) == "" {
		if _, err := s3local.Find(""); err != nil {
			t.Skipf("no S3 server: %v (make test runs this test with it)", err)
		}
	}
}

// start starts a server and registers its Stop as a cleanup that must
// succeed.
func start(t *testing.T, opts s3local.Options) *s3local.Server {
	t.Helper()
	needServer(t)
	began := time.Now()
	srv, err := s3local.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("versitygw ready at %s in %s", srv.Endpoint(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return srv
}

func newClient(t *testing.T, srv *s3local.Server) *s3.Client {
	t.Helper()
	ak, secret := srv.Credentials()
	c, err := s3local.NewClient(t.Context(), srv.Endpoint(), ak, secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send makes the presigned request as a browser or curl would: plain HTTP,
// the signed headers (header overrides them), the given body, whose length
// is the Content-Length the client declares.
func send(t *testing.T, p *v4.PresignedHTTPRequest, header http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), p.Method, p.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range p.SignedHeader {
		if name != "Host" && name != "Content-Length" {
			req.Header[name] = values
		}
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.ContentLength = int64(len(body))
	if body == nil {
		req.Body = http.NoBody
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", p.Method, p.URL, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", p.Method, err)
	}
	return resp.StatusCode, resp.Header, got
}

// presignPut signs a PUT of exactly size bytes of contentType, as the
// attachments route does.
func presignPut(t *testing.T, ps *s3.PresignClient, bucket, key string, size int64, contentType string, expires time.Duration) *v4.PresignedHTTPRequest {
	t.Helper()
	p, err := ps.PresignPutObject(t.Context(), &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		t.Fatalf("PresignPutObject: %v", err)
	}
	for _, h := range []string{"Content-Length", "Content-Type"} {
		if p.SignedHeader.Get(h) == "" {
			t.Fatalf("the presigned PUT does not sign %s: %v", h, p.SignedHeader)
		}
	}
	return p
}

// absent fails the test unless key has no object.
func absent(t *testing.T, c *s3.Client, bucket, key string) {
	t.Helper()
	_, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if notFound := (*types.NotFound)(nil); !errors.As(err, &notFound) {
		t.Errorf("HeadObject %s: err = %v, want NotFound", key, err)
	}
}

// wantRefused fails the test unless the answer is a 403 with the S3 error
// code.
func wantRefused(t *testing.T, status int, body []byte, code string) {
	t.Helper()
	if status != http.StatusForbidden || !bytes.Contains(body, []byte("<Code>"+code+"</Code>")) {
		t.Errorf("answer %d %s, want 403 %s", status, body, code)
	}
}

// TestConformance pins what the helpdesk relies on the S3 server for: the
// presigned uploads and downloads of attachments, and the calls of the
// attachment store.
func TestConformance(t *testing.T) {
	t.Parallel()
	const bucket = "attachments"
	srv := start(t, s3local.Options{Bucket: bucket})
	if srv.Bucket() != bucket {
		t.Errorf("Bucket() = %q, want %q", srv.Bucket(), bucket)
	}
	c := newClient(t, srv)
	ps := s3.NewPresignClient(c)
	ctx := t.Context()
	body := []byte("the printer is on fire\n")
	size := int64(len(body))

	t.Run("PresignedPutExact", func(t *testing.T) {
		p := presignPut(t, ps, bucket, "exact", size, "text/plain", time.Minute)
		if status, _, got := send(t, p, nil, body); status != http.StatusOK {
			t.Fatalf("PUT with the signed size and type: %d %s", status, got)
		}
	})
	t.Run("PresignedPutOneByteOver", func(t *testing.T) {
		p := presignPut(t, ps, bucket, "over", size, "text/plain", time.Minute)
		status, _, got := send(t, p, nil, append(slices.Clone(body), 'x'))
		wantRefused(t, status, got, "SignatureDoesNotMatch")
		absent(t, c, bucket, "over")
	})
	t.Run("PresignedPutOneByteUnder", func(t *testing.T) {
		p := presignPut(t, ps, bucket, "under", size, "text/plain", time.Minute)
		status, _, got := send(t, p, nil, body[:size-1])
		wantRefused(t, status, got, "SignatureDoesNotMatch")
		absent(t, c, bucket, "under")
	})
	t.Run("PresignedPutOtherContentType", func(t *testing.T) {
		p := presignPut(t, ps, bucket, "type", size, "text/plain", time.Minute)
		status, _, got := send(t, p, http.Header{"Content-Type": {"image/png"}}, body)
		wantRefused(t, status, got, "SignatureDoesNotMatch")
		absent(t, c, bucket, "type")
	})
	t.Run("PresignedPutExpired", func(t *testing.T) {
		t.Parallel()
		p := presignPut(t, ps, bucket, "expired", size, "text/plain", time.Second)
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
		if err != nil {
			t.Fatalf("X-Amz-Date: %v", err)
		}
		// The server may accept the URL until its second has passed; after
		// a grace for a slow machine it must refuse it.
		deadline := signed.Add(time.Second + 5*time.Second)
		for {
			status, _, got := send(t, p, nil, body)
			if status == http.StatusForbidden {
				wantRefused(t, status, got, "AccessDenied")
				if !bytes.Contains(got, []byte("expired")) {
					t.Errorf("refusal %s does not say the request expired", got)
				}
				break
			}
			if status != http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("PUT %s after signing with a 1 s expiry: %d %s", time.Since(signed).Round(time.Millisecond), status, got)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("HeadObject", func(t *testing.T) {
		put(t, c, bucket, "head", body, "text/plain")
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("head")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if aws.ToInt64(h.ContentLength) != size || aws.ToString(h.ContentType) != "text/plain" {
			t.Errorf("HeadObject = %d bytes of %q, want %d of text/plain", aws.ToInt64(h.ContentLength), aws.ToString(h.ContentType), size)
		}
	})
	t.Run("PresignedGetContentDisposition", func(t *testing.T) {
		put(t, c, bucket, "download", body, "text/plain")
		const disposition = `attachment; filename="a.txt"`
		p, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{
			Bucket:                     aws.String(bucket),
			Key:                        aws.String("download"),
			ResponseContentDisposition: aws.String(disposition),
		}, s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		status, header, got := send(t, p, nil, nil)
		if status != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET: %d %q, want 200 %q", status, got, body)
		}
		if h := header.Get("Content-Disposition"); h != disposition {
			t.Errorf("Content-Disposition = %q, want %q", h, disposition)
		}
		if h := header.Get("Content-Type"); h != "text/plain" {
			t.Errorf("Content-Type = %q, want text/plain", h)
		}
	})
	t.Run("TamperedSignature", func(t *testing.T) {
		put(t, c, bucket, "tampered", body, "text/plain")
		get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("tampered")})
		if err != nil {
			t.Fatalf("PresignGetObject: %v", err)
		}
		tamper(t, get)
		status, _, got := send(t, get, nil, nil)
		wantRefused(t, status, got, "SignatureDoesNotMatch")

		putReq := presignPut(t, ps, bucket, "tampered-put", size, "text/plain", time.Minute)
		tamper(t, putReq)
		status, _, got = send(t, putReq, nil, body)
		wantRefused(t, status, got, "SignatureDoesNotMatch")
		absent(t, c, bucket, "tampered-put")
	})
	t.Run("CopyThenDelete", func(t *testing.T) {
		put(t, c, bucket, "original", body, "text/plain")
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket:     aws.String(bucket),
			Key:        aws.String("copy"),
			CopySource: aws.String(bucket + "/original"),
		})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy")})
		if err != nil {
			t.Fatalf("HeadObject of the copy: %v", err)
		}
		if aws.ToInt64(h.ContentLength) != size || aws.ToString(h.ContentType) != "text/plain" {
			t.Errorf("copy = %d bytes of %q, want %d of text/plain", aws.ToInt64(h.ContentLength), aws.ToString(h.ContentType), size)
		}
		for _, key := range []string{"original", "copy"} {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatalf("DeleteObject %s: %v", key, err)
			}
			absent(t, c, bucket, key)
		}
	})
	t.Run("ListObjectsV2Prefix", func(t *testing.T) {
		for _, key := range []string{"tkt_1/att_a", "tkt_1/att_b", "tkt_10/att_c", "tkt_2/att_d"} {
			put(t, c, bucket, key, body, "text/plain")
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("tkt_1/")})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
			if aws.ToInt64(o.Size) != size {
				t.Errorf("%s: Size = %d, want %d", aws.ToString(o.Key), aws.ToInt64(o.Size), size)
			}
		}
		if want := []string{"tkt_1/att_a", "tkt_1/att_b"}; !slices.Equal(keys, want) {
			t.Errorf("keys under tkt_1/ = %q, want %q", keys, want)
		}
	})
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte, contentType string) {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
	})
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// tamper changes the last character of the URL's signature.
func tamper(t *testing.T, p *v4.PresignedHTTPRequest) {
	t.Helper()
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := q.Get("X-Amz-Signature")
	if sig == "" {
		t.Fatalf("no X-Amz-Signature in %s", p.URL)
	}
	last := byte('0')
	if sig[len(sig)-1] == '0' {
		last = '1'
	}
	q.Set("X-Amz-Signature", sig[:len(sig)-1]+string(last))
	u.RawQuery = q.Encode()
	p.URL = u.String()
}

// TestDataSurvivesRestart stops a server and starts another on its data
// folder: the object and its content type (an extended attribute) are
// there, the bucket's second creation is no error, and the credentials are
// new but work on the old bucket.
func TestDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	opts := s3local.Options{DataDir: dir, Bucket: "kept"}
	srv := start(t, opts)
	firstKey, _ := srv.Credentials()
	put(t, newClient(t, srv), "kept", "tkt_1/att_1", []byte("still here"), "application/pdf")
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Stop removed the given data folder: %v", err)
	}

	srv = start(t, opts)
	if ak, _ := srv.Credentials(); ak == firstKey {
		t.Errorf("the second start has the first one's access key %s", ak)
	}
	out, err := newClient(t, srv).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("kept"), Key: aws.String("tkt_1/att_1")})
	if err != nil {
		t.Fatalf("GetObject after the restart: %v", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "still here" || aws.ToString(out.ContentType) != "application/pdf" {
		t.Errorf("after the restart: %q of %q, want \"still here\" of application/pdf", got, aws.ToString(out.ContentType))
	}
	// The bucket belongs to the first start's access key; the new one still
	// writes and deletes in it, presigned or not.
	c := newClient(t, srv)
	p := presignPut(t, s3.NewPresignClient(c), "kept", "tkt_1/att_2", 3, "text/plain", time.Minute)
	if status, _, got := send(t, p, nil, []byte("new")); status != http.StatusOK {
		t.Errorf("presigned PUT after the restart: %d %s", status, got)
	}
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("kept"), Key: aws.String("tkt_1/att_1")}); err != nil {
		t.Errorf("DeleteObject after the restart: %v", err)
	}
}

// TestLifecycle checks what Stop does and that the secret stays out of the
// server's output.
func TestLifecycle(t *testing.T) {
	// Start's temporary folder goes to TMPDIR, here a folder of the test's.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// Read only after Stop, once versitygw's output has been copied.
	var log bytes.Buffer
	srv := start(t, s3local.Options{Log: &log})
	if !strings.HasPrefix(srv.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:PORT", srv.Endpoint())
	}
	if srv.Bucket() != "" {
		t.Errorf("Bucket() = %q with no bucket asked for", srv.Bucket())
	}
	ak, secret := srv.Credentials()
	if len(ak) != 20 || len(secret) != 40 {
		t.Errorf("credentials of %d and %d characters, want 20 and 40", len(ak), len(secret))
	}
	c := newClient(t, srv)
	ctx := t.Context()
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(out.Buckets) != 0 {
		t.Errorf("buckets %v, want none", out.Buckets)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("TMPDIR holds %d entries while the server runs, want its data folder", len(entries))
	}

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-srv.Done():
	default:
		t.Error("Done() not closed after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("TMPDIR holds %v after Stop, want the temporary data folder removed", entries)
	}
	callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.ListBuckets(callCtx, &s3.ListBucketsInput{}); err == nil {
		t.Error("ListBuckets succeeded after Stop")
	}
	if strings.Contains(log.String(), secret) {
		t.Error("the server's output holds the secret")
	}
}

// TestStartReportsEarlyExit runs a stand-in that fails as versitygw does on
// a file system without extended attributes.
func TestStartReportsEarlyExit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "versitygw")
	script := "#!/bin/sh\necho 'xattr check failed: xattrs are not supported on this filesystem' >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(s3local.EnvServer, bin)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	began := time.Now()
	srv, err := s3local.Start(t.Context(), s3local.Options{})
	if err == nil {
		_ = srv.Stop()
		t.Fatal("Start succeeded with a server that exits")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("Start took %s to notice the exit", took)
	}
	for _, want := range []string{"exited before it was ready", "xattrs are not supported", "must support user extended attributes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %v, want it to say %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("TMPDIR holds %v after the failed start", entries)
	}
}

func TestFindMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "versitygw")
	t.Setenv(s3local.EnvServer, missing)
	for _, path := range []string{"", missing} {
		if _, err := s3local.Find(path); err == nil || !strings.Contains(err.Error(), "run `make s3-server`") {
			t.Errorf("Find(%q) of a missing binary: err = %v, want one that says to run `make s3-server`", path, err)
		}
	}
}

func TestFindExplicitPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "versitygw")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(s3local.EnvServer, "")
	t.Chdir(dir)
	got, err := s3local.Find("./versitygw")
	if err != nil || got != bin {
		t.Errorf("Find(./versitygw) = %q, %v; want %q", got, err, bin)
	}
}

func TestClientRejectsBadArguments(t *testing.T) {
	for _, args := range [][3]string{
		{"", "ak", "sk"}, {"127.0.0.1:9000", "ak", "sk"}, {"ftp://x", "ak", "sk"},
		{"http://127.0.0.1:9000", "", "sk"}, {"http://127.0.0.1:9000", "ak", ""},
	} {
		if _, err := s3local.NewClient(t.Context(), args[0], args[1], args[2]); err == nil {
			t.Errorf("NewClient(%q, %q, %q) succeeded", args[0], args[1], args[2])
		}
	}
}

// TestStartRefusesBadBucketName checks that Start names the server's
// reason when the bucket cannot be created.
func TestStartRefusesBadBucketName(t *testing.T) {
	needServer(t)
	t.Parallel()
	srv, err := s3local.Start(t.Context(), s3local.Options{Bucket: "b"})
	if err == nil {
		_ = srv.Stop()
		t.Fatal("Start succeeded with the bucket name \"b\"")
	}
	if !strings.Contains(err.Error(), "InvalidBucketName") {
		t.Errorf("Start error = %v, want InvalidBucketName", err)
	}
}
