package filestore_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestLongestLink signs the longest download URL the API can give: a file
// named with 255 four-byte characters, in a bucket with the longest name,
// with a session token longer than a Lambda function's role gets (about
// 1,100 characters), made of the characters a URL escapes most (2,000
// of + and /: 6,000 bytes escaped). It must fit helpdesk.MaxLinkLen, by
// giving the name in ASCII when the whole name does not fit.
func TestLongestLink(t *testing.T) {
	cfg := aws.Config{Region: "ap-southeast-2", Credentials: credentials.NewStaticCredentialsProvider(
		"ASIAEXAMPLEEXAMPLE12", strings.Repeat("s", 40), strings.Repeat("+/", 1000))}
	client := s3.NewFromConfig(cfg)
	bucket := strings.Repeat("b", 63)
	store := filestore.New(client, bucket, nil)
	a := helpdesk.Attachment{ID: helpdesk.NewAttachmentID(), Filename: strings.Repeat("😀", helpdesk.MaxFilenameLen),
		ContentType: "application/vnd.openxmlformats-officedocument.presentationml.presentation", Size: 1}
	link, err := store.DownloadLink(context.Background(), "tkt_"+strings.Repeat("a", 24), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the longest link: %d bytes of %d", len(link.URL), helpdesk.MaxLinkLen)
	if len(link.URL) > helpdesk.MaxLinkLen || !strings.Contains(link.URL, "filename%3D___") {
		t.Fatalf("%d bytes: %s", len(link.URL), link.URL[strings.Index(link.URL, "response-content-disposition"):][:200])
	}
	// With a token as long as a function's, the whole name fits.
	cfg.Credentials = credentials.NewStaticCredentialsProvider("ASIAEXAMPLEEXAMPLE12", strings.Repeat("s", 40), strings.Repeat("A", 1100))
	store = filestore.New(s3.NewFromConfig(cfg), bucket, nil)
	if link, err = store.DownloadLink(context.Background(), "tkt_"+strings.Repeat("a", 24), a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(link.URL, "filename%2A%3Dutf-8%27%27%25F0%259F%2598%2580") {
		t.Fatalf("the name is not whole: %.300s", link.URL)
	}
}

// TestUploadRequestExpires: S3 refuses an upload's request once it has
// expired, and stores nothing.
func TestUploadRequestExpires(t *testing.T) {
	files := dynamotest.NewFiles(t)
	now := time.Now().UTC().Truncate(time.Second)
	u := &helpdesk.Upload{ID: helpdesk.NewUploadID(), Filename: "a.txt", ContentType: "text/plain", Size: 3,
		CreatedAt: now, ExpiresAt: now.Add(2 * time.Second)}
	req, err := files.Store.PresignUpload(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	put := func() int {
		r, err := http.NewRequest(req.Method, req.URL, bytes.NewReader([]byte("abc")))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", req.Headers["Content-Type"])
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Wait for the expiry S3 sees, never longer than a deadline.
	for deadline := time.Now().Add(30 * time.Second); time.Until(u.ExpiresAt) > -time.Second; {
		if time.Now().After(deadline) {
			t.Fatal("the request never expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status := put(); status != http.StatusForbidden {
		t.Fatalf("an expired upload request: %d", status)
	}
	if _, ok, err := files.Store.UploadedSize(context.Background(), u.ID); err != nil || ok {
		t.Fatalf("S3 kept bytes it refused: %v %v", ok, err)
	}
}

// TestKeepAndDiscard: an upload's bytes are copied to an attachment, and
// discarding removes them; discarding what is gone is no error.
func TestKeepAndDiscard(t *testing.T) {
	files := dynamotest.NewFiles(t)
	ctx := context.Background()
	id := helpdesk.NewUploadID()
	if _, err := files.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(files.Bucket), Key: aws.String(filestore.UploadKey(id)),
		Body: bytes.NewReader([]byte("hello")), ContentType: aws.String("text/plain")}); err != nil {
		t.Fatal(err)
	}
	if size, ok, err := files.Store.UploadedSize(ctx, id); err != nil || !ok || size != 5 {
		t.Fatalf("UploadedSize = %d %v %v", size, ok, err)
	}
	a := helpdesk.Attachment{ID: helpdesk.NewAttachmentID(), Filename: "hello.txt", ContentType: "text/plain", Size: 5, UploadID: id}
	if err := files.Store.Keep(ctx, id, "tkt_x", a); err != nil {
		t.Fatal(err)
	}
	if err := files.Store.DiscardUpload(ctx, id); err != nil {
		t.Fatal(err)
	}
	link, err := files.Store.DownloadLink(ctx, "tkt_x", a)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", res.StatusCode)
	}
	for range 2 {
		if err := files.Store.Discard(ctx, "tkt_x", []string{a.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err = http.Get(link.URL); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("download after the discard: %d", res.StatusCode)
	}
}
